"""Lifecycle and settings: initialize, initialized, configuration, workspace folders, shutdown."""

from __future__ import annotations

import gc
import logging

from lsprotocol import types

from aurora_lsp.server import AuroraServer

logger = logging.getLogger(__name__)


def register(server: AuroraServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: AuroraServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("aurora"), dict):
            options = options["aurora"]
        ls.apply_settings(options or {})

    @server.feature(types.INITIALIZED)
    async def initialized(ls: AuroraServer, params: types.InitializedParams) -> None:
        await _pull_configuration(ls)  # first: it may name another database or exclude files
        folders = list(ls.workspace.folders.values())
        uris = [folder.uri for folder in folders] or ([ls.workspace.root_uri] if ls.workspace.root_uri else [])
        for uri in uris:
            await ls.folders.add(uri)
        ls.folders.ready.set()  # requests answer from the database from here on, while the rest runs
        await _watch_python_files(ls)
        if ls.settings.current.index_on_startup:
            await ls.refresh(full=False, progress=True)
        # The services' modules, loaded since `initialize`, live as long as the process too:
        # out of every later full collection with the rest (cli.py froze what came before).
        gc.collect()
        gc.freeze()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: AuroraServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("aurora"), dict):
            rescan = ls.apply_settings(settings["aurora"])
        else:
            rescan = await _pull_configuration(ls)
        await ls.folders.resize()
        if rescan:
            ls.documents.refreshes.schedule(0)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(ls: AuroraServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            await ls.folders.remove(removed.uri)
        for added in params.event.added:
            await ls.folders.add(added.uri)
        ls.documents.refreshes.schedule(0)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: AuroraServer, params: None) -> None:
        ls.shutdown_requested = True
        await ls.close()

    @server.feature(types.EXIT)
    def exit(ls: AuroraServer, params: None) -> None:
        """`exit` without `shutdown` first exits with status 1, as LSP says."""
        ls.exit_code = 0 if ls.shutdown_requested else 1


async def _pull_configuration(ls: AuroraServer) -> bool:
    """Read section `aurora` with workspace/configuration, where the client offers it."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return False
    try:
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="aurora")])
        )
    except Exception as error:  # an unanswered pull keeps the settings we have
        logger.info("workspace/configuration failed: %s", error)
        return False
    if answer and isinstance(answer[0], dict):
        return ls.apply_settings(answer[0])
    return False


async def _watch_python_files(ls: AuroraServer) -> None:
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if watched is None or not watched.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=[types.FileSystemWatcher(glob_pattern="**/*.py")])
    registration = types.Registration(
        id="aurora-watch-python", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
    )
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[registration]))
    except Exception as error:
        logger.info("could not register the file watcher: %s", error)
