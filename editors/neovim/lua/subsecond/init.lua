-- subsecond-lsp for Neovim (>= 0.10): starts the server on Rust buffers next to rust-analyzer,
-- binds its commands, keeps its code lenses fresh, shows its diagnostics as virtual text and turns
-- `subsecond/status` into a statusline component.
local M = {}

local SERVER_NAME = 'subsecond-lsp'

-- User command suffix -> server command (workspace/executeCommand, no arguments).
local COMMANDS = {
  Start = 'subsecond.startApp',
  Restart = 'subsecond.restartApp',
  Stop = 'subsecond.stopApp',
  Patch = 'subsecond.patch',
  Status = 'subsecond.status',
}

local defaults = {
  -- nil: `subsecond-lsp --stdio` from PATH.
  cmd = nil,
  -- The "subsecond" settings section: autoPatch, manifestPath, package, bin, cargoArgs,
  -- maxFileBytes, patchAckTimeoutMs, verbose.
  settings = {},
  filetypes = { 'rust' },
  -- Show the server's code lenses (⚡ patch, status, ▶ start app) and keep them refreshed.
  codelens = true,
  -- vim.diagnostic options for subsecond's own diagnostics (its namespace only): Neovim's default
  -- shows a warning as a sign alone, and "requires restart" must be read where it is. e.g.
  -- { virtual_text = false, virtual_lines = true } on 0.11+; false leaves them to your global
  -- vim.diagnostic.config().
  diagnostics = { virtual_text = true },
  -- fun(file: string, bufnr: integer): string|nil, overriding the Cargo root search.
  root_dir = nil,
  -- Extra client capabilities merged over Neovim's defaults (e.g. from nvim-cmp).
  capabilities = nil,
  -- fun(client, bufnr), called after the plugin's own attach work.
  on_attach = nil,
}

local config = vim.deepcopy(defaults)
local statuses = {} -- client id -> last `subsecond/status` params
local progress = {} -- client id -> latest $/progress message while work is under way
local augroup = nil
local warned_missing = false

local has_011 = vim.fn.has('nvim-0.11') == 1

-- Client methods became `client:method()` in 0.11 and the dot form warns there.
local function request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function notify(msg, level)
  vim.notify('subsecond: ' .. msg, level or vim.log.levels.INFO)
end

local function read_file(path)
  local f = io.open(path, 'r')
  if not f then
    return nil
  end
  local text = f:read('*a')
  f:close()
  return text
end

--- The directory to root the server at for `file`: the Cargo workspace that contains it (the
--- first ancestor manifest with a `[workspace]` table, as Cargo decides), else the nearest
--- package. nil outside any Cargo project.
function M.find_root(file)
  local manifests = vim.fs.find('Cargo.toml', {
    path = vim.fs.dirname(file),
    upward = true,
    type = 'file',
    limit = math.huge,
  })
  if #manifests == 0 then
    return nil
  end
  for _, manifest in ipairs(manifests) do
    local text = read_file(manifest) or ''
    if text:match('^%s*%[workspace%]') or text:match('\n%s*%[workspace%]') then
      return vim.fs.dirname(manifest)
    end
  end
  return vim.fs.dirname(manifests[1])
end

local function resolve_cmd()
  local cmd = config.cmd or { 'subsecond-lsp', '--stdio' }
  if type(cmd) == 'string' then
    cmd = { cmd, '--stdio' }
  end
  if type(cmd) == 'table' and vim.fn.executable(cmd[1]) ~= 1 then
    -- One warning, not one per Rust buffer.
    if not warned_missing then
      warned_missing = true
      notify(
        ('`%s` is not executable; install subsecond-lsp or pass cmd to setup()'):format(cmd[1]),
        vim.log.levels.WARN
      )
    end
    return nil
  end
  return cmd
end

--- The subsecond-lsp client serving `bufnr` (0 = current); falls back to the only running one so
--- commands work from a non-Rust buffer too.
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ bufnr = bufnr or 0, name = SERVER_NAME })
  if #clients > 0 then
    return clients[1]
  end
  clients = vim.lsp.get_clients({ name = SERVER_NAME })
  if #clients == 1 then
    return clients[1]
  end
  return nil
end

local function refresh_lenses(client_id)
  if not config.codelens then
    return
  end
  -- Neovim 0.12+ keeps lens state itself and handles the refresh request; reuse that path.
  local builtin = vim.lsp.handlers['workspace/codeLens/refresh']
  if builtin and vim.lsp.codelens.enable then
    builtin(nil, nil, { client_id = client_id, method = 'workspace/codeLens/refresh' })
    return
  end
  for _, buf in ipairs(vim.lsp.get_buffers_by_client_id(client_id)) do
    if vim.api.nvim_buf_is_loaded(buf) then
      vim.lsp.codelens.refresh({ bufnr = buf })
    end
  end
end

-- What decides which lenses the server shows; other status changes don't need a refetch.
local function lens_key(s)
  if not s then
    return ''
  end
  return table.concat({ s.app or '', s.patch or '', tostring(s.patchesApplied), tostring(s.blockingFindings), s.message or '' }, '|')
end

--- Runs a server command and reports its `{ok, message}` answer. `on_result` gets the raw result.
function M.execute(command, bufnr, on_result)
  local client = M.client(bufnr)
  if not client then
    notify('no subsecond-lsp client here (open a Rust file in a Cargo project)', vim.log.levels.WARN)
    return
  end
  request(client, 'workspace/executeCommand', { command = command }, function(err, result)
    if err then
      notify(('%s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result, client)
    elseif type(result) == 'table' and result.message then
      notify(result.message, result.ok == false and vim.log.levels.WARN or vim.log.levels.INFO)
    end
    refresh_lenses(client.id)
  end, bufnr)
end

--- The last status the server sent for the buffer's client (nil before the first one).
function M.status(bufnr)
  local client = M.client(bufnr)
  return client and statuses[client.id] or nil
end

--- A short statusline component: the app and patch state of the buffer's server (or of the only
--- running one, so other windows show it too); '' when there is none.
--- e.g. `set statusline+=%{v:lua.require'subsecond'.statusline()}`
function M.statusline(bufnr)
  local client = M.client(bufnr)
  if not client then
    return ''
  end
  local s = statuses[client.id]
  if not s then
    return '⚡ …'
  end
  local busy = progress[client.id]
  if s.app == 'stopped' then
    return '⚡ stopped'
  elseif s.app == 'crashed' then
    return '⚡ crashed'
  elseif s.app == 'building' or s.app == 'starting' then
    return '⚡ ' .. s.app .. (busy and (': ' .. busy) or '…')
  end
  -- running
  if s.patch == 'building' then
    return '⚡ patching…'
  elseif s.patch == 'blocked' then
    return ('⚡ blocked: %d need restart'):format(s.blockingFindings or 0)
  elseif s.patch == 'failed' then
    return '⚡ patch failed'
  elseif (s.patchesApplied or 0) > 0 then
    local ms = s.lastPatchMs and (' %dms'):format(s.lastPatchMs) or ''
    return ('⚡ %d patch%s%s'):format(s.patchesApplied, s.patchesApplied == 1 and '' or 'es', ms)
  end
  return '⚡ running'
end

local function print_status(s)
  if type(s) ~= 'table' then
    notify('no status yet', vim.log.levels.WARN)
    return
  end
  local lines = {
    ('app: %s%s%s'):format(s.app, s.pid and (' (pid ' .. s.pid .. ')') or '', s.bin and (' ' .. s.bin) or ''),
    ('patch: %s, %d applied%s'):format(
      s.patch,
      s.patchesApplied or 0,
      s.lastPatchMs and (', last in ' .. s.lastPatchMs .. ' ms') or ''
    ),
  }
  if (s.blockingFindings or 0) > 0 then
    table.insert(lines, ('%d change(s) need a restart'):format(s.blockingFindings))
  end
  if s.message and s.message ~= '' then
    table.insert(lines, s.message)
  end
  notify(table.concat(lines, '\n'))
end

local handlers = {
  ['subsecond/status'] = function(_, result, ctx)
    local prev = statuses[ctx.client_id]
    statuses[ctx.client_id] = result
    vim.schedule(function()
      vim.cmd('redrawstatus!')
      vim.api.nvim_exec_autocmds('User', {
        pattern = 'SubsecondStatus',
        modeline = false,
        data = { client_id = ctx.client_id, status = result },
      })
      if lens_key(prev) ~= lens_key(result) then
        refresh_lenses(ctx.client_id)
      end
    end)
  end,
}

-- Before 0.12 Neovim has no handler for this server request; answer it ourselves.
if not vim.lsp.handlers['workspace/codeLens/refresh'] then
  handlers['workspace/codeLens/refresh'] = function(_, _, ctx)
    vim.schedule(function()
      refresh_lenses(ctx.client_id)
    end)
    return vim.NIL
  end
end

-- Lens and code-action commands run here instead of blind executeCommand, so the server's
-- answer is shown to the user.
local client_commands = {}
for _, command in pairs(COMMANDS) do
  client_commands[command] = function(cmd, ctx)
    M.execute(cmd.command, ctx.bufnr, command == COMMANDS.Status and function(result)
      print_status(result)
    end or nil)
  end
end

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  -- Lets the server push lens updates when the app or patch state changes.
  caps.workspace = caps.workspace or {}
  caps.workspace.codeLens = { refreshSupport = true }
  -- This plugin shows command answers itself (M.execute) and `subsecond/status` (statusline,
  -- lenses); without these the server also says them, and each patch outcome, as messages.
  caps.experimental = vim.tbl_extend('force', caps.experimental or {}, { subsecond = { showsCommandResults = true, showsStatus = true } })
  return vim.tbl_deep_extend('force', caps, config.capabilities or {})
end

local function on_attach(client, bufnr)
  if config.diagnostics then
    -- Options for this client's namespace only; other servers keep the global config.
    vim.diagnostic.config(config.diagnostics, vim.lsp.diagnostic.get_namespace(client.id))
  end
  if config.codelens then
    if vim.lsp.codelens.enable then
      vim.lsp.codelens.enable(true, { bufnr = bufnr })
    else
      vim.lsp.codelens.refresh({ bufnr = bufnr })
      -- A buffer can attach again (:edit, server restart); keep one set of autocmds.
      vim.api.nvim_clear_autocmds({ group = augroup, buffer = bufnr })
      vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
        group = augroup,
        buffer = bufnr,
        callback = function()
          vim.lsp.codelens.refresh({ bufnr = bufnr })
        end,
      })
    end
  end
  if config.on_attach then
    config.on_attach(client, bufnr)
  end
end

--- Starts (or reuses) the server for `bufnr` if it is a file inside a Cargo project.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].buftype ~= '' then
    return
  end
  local file = vim.api.nvim_buf_get_name(bufnr)
  if file == '' then
    return
  end
  local root = config.root_dir and config.root_dir(file, bufnr) or M.find_root(file)
  if not root then
    return -- not in a Cargo project: nothing to hot-patch
  end
  local cmd = resolve_cmd()
  if not cmd then
    return
  end
  vim.lsp.start({
    name = SERVER_NAME,
    cmd = cmd,
    root_dir = root,
    init_options = { subsecond = config.settings },
    -- Answers the server's workspace/configuration pull for section "subsecond".
    settings = { subsecond = config.settings },
    capabilities = capabilities(),
    handlers = handlers,
    commands = client_commands,
    on_attach = on_attach,
    on_exit = function(_, _, client_id)
      statuses[client_id] = nil
      progress[client_id] = nil
      vim.schedule(function()
        vim.cmd('redrawstatus!')
      end)
    end,
  }, { bufnr = bufnr })
end

function M.setup(opts)
  if vim.fn.has('nvim-0.10') ~= 1 then
    notify('needs Neovim 0.10 or newer', vim.log.levels.ERROR)
    return
  end
  config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  augroup = vim.api.nvim_create_augroup('subsecond', { clear = true })
  require('subsecond.app').setup() -- runInTerminal, appOutput, :SubsecondLog

  vim.api.nvim_create_autocmd('FileType', {
    group = augroup,
    pattern = config.filetypes,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })

  vim.api.nvim_create_autocmd('LspProgress', {
    group = augroup,
    callback = function(ev)
      local id = ev.data and ev.data.client_id
      if not id or not M.is_subsecond(id) then
        return
      end
      local value = ev.data.params and ev.data.params.value or {}
      progress[id] = value.kind ~= 'end' and (value.message or value.title) or nil
      vim.cmd('redrawstatus')
    end,
  })

  for suffix, command in pairs(COMMANDS) do
    vim.api.nvim_create_user_command('Subsecond' .. suffix, function()
      if command == COMMANDS.Status then
        M.execute(command, 0, function(result, client)
          if type(result) == 'table' then
            statuses[client.id] = result
          end
          print_status(result)
        end)
      else
        M.execute(command, 0)
      end
    end, { desc = 'subsecond-lsp: ' .. command })
  end

  -- Buffers that were already open when setup() ran.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(config.filetypes, vim.bo[buf].filetype) then
      M.attach(buf)
    end
  end
end

function M.is_subsecond(client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  return client ~= nil and client.name == SERVER_NAME
end

return M
