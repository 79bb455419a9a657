-- Drive Aurora from Neovim's own LSP client (0.7+), headless; write what it saw as JSON.
local root = os.getenv("AURORA_ROOT")
local out = os.getenv("AURORA_OUT")
local client_id = vim.lsp.start_client({
  name = "aurora",
  cmd = { os.getenv("AURORA_PYTHON"), "-m", "aurora_lsp", "serve", "--log-file", os.getenv("AURORA_OUT") .. ".log" },
  root_dir = root,
  init_options = { databasePath = os.getenv("AURORA_DB") },
  workspace_folders = { { uri = vim.uri_from_fname(root), name = "shop" } },
})
if not client_id then
  vim.cmd("cquit 2")
end
vim.cmd("edit " .. root .. "/shop/models/cart.py")
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client_id)
vim.wait(20000, function()
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.initialized
end, 50)

local function request(method, params)
  local responses = vim.lsp.buf_request_sync(buf, method, params, 20000) or {}
  local response = responses[client_id] or {}
  return response.result, response.err
end

local indexed = vim.wait(30000, function()
  local stats = request("aurora/stats", nil)
  -- a JSON null arrives as nil (or vim.NIL, by version)
  local last = stats and stats.indexing.lastRunSeconds
  return stats ~= nil and stats.indexing.state == "idle" and last ~= nil and last ~= vim.NIL
end, 100)

local outline = request("textDocument/documentSymbol", { textDocument = { uri = vim.uri_from_bufnr(buf) } }) or {}
local names = {}
for _, symbol in ipairs(outline) do
  local children = {}
  for _, child in ipairs(symbol.children or {}) do
    table.insert(children, child.name)
  end
  table.insert(names, { name = symbol.name, children = children })
end
local found, found_err = request("workspace/symbol", { query = "line_total" })
found = found or {}
local stats = request("aurora/stats", nil) or {}

-- navigation: references of Record from `class Cart(Record):`, the callers of CartLine from
-- its call in Cart.add, and what Cart.add calls (each result as file, name and first line)
local uri = vim.uri_from_bufnr(buf)
local function at(line, character)
  return { textDocument = { uri = uri }, position = { line = line, character = character } }
end
local references_params = at(16, 13)
references_params.context = { includeDeclaration = false }
local references = {}
for _, location in ipairs(request("textDocument/references", references_params) or {}) do
  local file = vim.fn.fnamemodify(vim.uri_to_fname(location.uri), ":t")
  table.insert(references, { file = file, line = location.range.start.line, character = location.range.start.character })
end
local function calls(position, method, side)
  local items = request("textDocument/prepareCallHierarchy", position) or {}
  local found = {}
  if items[1] then
    for _, call in ipairs(request(method, { item = items[1] }) or {}) do
      local other = call[side]
      local file = vim.fn.fnamemodify(vim.uri_to_fname(other.uri), ":t")
      table.insert(found, { name = other.name, file = file, line = call.fromRanges[1].start.line })
    end
  end
  return { item = items[1] and items[1].name or vim.NIL, calls = found }
end
-- the definition of Record from `class Cart(Record):` (jedi, through the import)
local definition = {}
local answer = request("textDocument/definition", at(16, 13)) or {}
if answer.uri then
  answer = { answer }
end
for _, location in ipairs(answer) do
  local target = location.targetUri and location or { targetUri = location.uri, targetSelectionRange = location.range }
  table.insert(definition, {
    file = vim.fn.fnamemodify(vim.uri_to_fname(target.targetUri), ":t"),
    line = target.targetSelectionRange.start.line,
  })
end
local incoming = calls(at(24, 16), "callHierarchy/incomingCalls", "from")
local outgoing = calls(at(23, 9), "callHierarchy/outgoingCalls", "to")

local file = io.open(out, "w")
file:write(vim.fn.json_encode({
  indexed = indexed,
  outline = names,
  workspace_symbol = found[1] and { name = found[1].name, container = found[1].containerName } or vim.NIL,
  chunks = stats.chunks,
  references = references,
  definition = definition,
  incoming = incoming,
  outgoing = outgoing,
  errors = found_err and vim.inspect(found_err) or vim.NIL,
}))
file:close()
vim.lsp.stop_client(client_id)
vim.wait(5000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
vim.cmd("qall!")
