-- Runs inside headless Neovim, started by smoke.sh: set up the plugin, open a Rust file, add a
-- struct field, save, and expect the server's struct-layout-changed warning plus the rest of the
-- contract (commands, lenses, quick fix). Exits non-zero on the first failure.
local timeout = tonumber(os.getenv('SUBSECOND_SMOKE_TIMEOUT_MS') or '60000')

local function log(msg)
  io.stdout:write('smoke: ' .. msg .. '\n')
end

local function fail(msg)
  io.stderr:write('smoke: FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end

local function wait(what, cond)
  if not vim.wait(timeout, cond, 50) then
    fail('timed out after ' .. timeout .. ' ms waiting for ' .. what)
  end
end

local function main()
  local project = assert(os.getenv('SUBSECOND_SMOKE_PROJECT'), 'SUBSECOND_SMOKE_PROJECT is not set')
  local cmd = vim.json.decode((assert(os.getenv('SUBSECOND_SMOKE_CMD'), 'SUBSECOND_SMOKE_CMD is not set')))
  local subsecond = require('subsecond')
  subsecond.setup({ cmd = cmd, settings = { autoPatch = false } })
  for _, name in ipairs({ 'Start', 'Restart', 'Stop', 'Patch', 'Status' }) do
    if vim.fn.exists(':Subsecond' .. name) ~= 2 then
      fail(':Subsecond' .. name .. ' is not defined')
    end
  end

  local main_rs = project .. '/src/main.rs'
  vim.cmd.edit(vim.fn.fnameescape(main_rs))
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].filetype ~= 'rust' then
    fail('filetype is ' .. vim.bo[buf].filetype)
  end

  wait('the client to attach and initialize', function()
    local c = subsecond.client(buf)
    return c ~= nil and c.server_capabilities ~= nil
  end)
  local client = subsecond.client(buf)
  local real = function(p)
    return vim.uv.fs_realpath(p) or p
  end
  if real(client.root_dir) ~= real(project) then
    fail(('root_dir is %s, expected %s'):format(client.root_dir, project))
  end
  log('attached, root ' .. client.root_dir)

  -- The status command answers with the status object and feeds the statusline.
  local status
  subsecond.execute('subsecond.status', buf, function(result)
    status = result
  end)
  wait('subsecond.status to answer', function()
    return status ~= nil
  end)
  if type(status) ~= 'table' or type(status.app) ~= 'string' then
    fail('subsecond.status returned ' .. vim.inspect(status))
  end
  log('status: app=' .. status.app .. ', message=' .. tostring(status.message))

  -- The stub echoes the settings it pulled through workspace/configuration.
  if os.getenv('SUBSECOND_SMOKE_STUB') == '1' then
    local echoed
    wait('the settings to reach the server', function()
      subsecond.execute('subsecond.status', buf, function(result)
        echoed = result.message
      end)
      return echoed ~= nil and echoed:find('"autoPatch":false', 1, true) ~= nil
    end)
    log('server pulled the settings: ' .. echoed)
  end

  -- 0.12 returns {client_id, lens} records from get({bufnr}); earlier versions plain lenses.
  local function lens_commands()
    local out = {}
    local ok, got = pcall(vim.lsp.codelens.get, vim.lsp.codelens.enable and { bufnr = buf } or buf)
    for _, item in ipairs(ok and got or {}) do
      local lens = item.lens or item
      if lens.command then
        table.insert(out, lens.command.command)
      end
    end
    return out
  end
  wait('the ▶ start app lens', function()
    return vim.tbl_contains(lens_commands(), 'subsecond.startApp')
  end)
  log('lenses: ' .. table.concat(lens_commands(), ', '))

  -- Add a field to App, as a person would, and save.
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local at
  for i, line in ipairs(lines) do
    if line:match('^%s*pub name: String,') then
      at = i
    end
  end
  if not at then
    fail('fixture has no `pub name: String,` line')
  end
  vim.api.nvim_buf_set_lines(buf, at, at, false, { '    pub extra: bool,' })
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find('name: String::new() }', 1, true) then
      local fixed = line:gsub('name: String::new%(%) }', 'name: String::new(), extra: false }')
      vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { fixed })
    end
  end
  vim.cmd('silent write')

  local function layout_warnings()
    return vim.tbl_filter(function(d)
      return d.source == 'subsecond' and d.code == 'struct-layout-changed'
    end, vim.diagnostic.get(buf))
  end
  wait('a struct-layout-changed diagnostic after the save', function()
    return #layout_warnings() > 0
  end)
  local warning = layout_warnings()[1]
  log(('diagnostic at %d:%d: %s'):format(warning.lnum + 1, warning.col + 1, warning.message))

  -- The quick fix the server attaches to restart-class findings.
  local lsp_diag = warning.user_data and warning.user_data.lsp
  local actions
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = lsp_diag.range,
    context = { diagnostics = { lsp_diag } },
  }
  local req = vim.fn.has('nvim-0.11') == 1 and function(...)
    return client:request(...)
  end or client.request
  req('textDocument/codeAction', params, function(err, result)
    actions = err and {} or (result or {})
  end, buf)
  wait('code actions', function()
    return actions ~= nil
  end)
  local titles = vim.tbl_map(function(a)
    return a.title
  end, actions)
  if not vim.tbl_contains(titles, 'Restart app to apply') then
    fail('code actions were ' .. vim.inspect(titles))
  end
  log('code action: Restart app to apply')

  local line = subsecond.statusline(buf)
  if line == '' then
    fail('statusline is empty while the client is attached')
  end
  log('statusline: ' .. line)

  -- Starting an app for real means a cargo build; only the stub does it here. Checks the user
  -- command, the status notification and the lens refresh it triggers.
  if os.getenv('SUBSECOND_SMOKE_STUB') == '1' then
    vim.cmd('SubsecondStart')
    wait('the statusline to show the running app', function()
      return subsecond.statusline(buf) == '⚡ running'
    end)
    wait('the ⚡ patch lens after the status change', function()
      return vim.tbl_contains(lens_commands(), 'subsecond.patch')
    end)
    log('after :SubsecondStart: ' .. subsecond.statusline(buf) .. ', lenses: ' .. table.concat(lens_commands(), ', '))
  end

  log('ok')
end

-- An error must end Neovim too, or the headless run would sit there until the outer timeout.
local ok, err = xpcall(main, debug.traceback)
if not ok then
  fail(tostring(err))
end
vim.cmd('qall!')
