-- Runs inside headless Neovim, started by smoke.sh: set up the plugin, open a Rust file, and do
-- what a user does — look at the lenses, run one, add a struct field, save, read the warning where
-- it is shown, apply the quick fix from inside the struct, open :SubsecondLog. Neovim's own
-- diagnostic defaults are kept (virtual text off): the plugin must make the warning readable.
-- Exits non-zero on the first failure.
local timeout = tonumber(os.getenv('SUBSECOND_SMOKE_TIMEOUT_MS') or '60000')
local stub = os.getenv('SUBSECOND_SMOKE_STUB') == '1'

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
  for _, name in ipairs({ 'Start', 'Restart', 'Stop', 'Patch', 'Status', 'Log' }) do
    if vim.fn.exists(':Subsecond' .. name) ~= 2 then
      fail(':Subsecond' .. name .. ' is not defined')
    end
  end

  local main_rs = project .. '/src/main.rs'
  vim.cmd.edit(vim.fn.fnameescape(main_rs))
  local buf = vim.api.nvim_get_current_buf()
  local win = vim.api.nvim_get_current_win()
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
  if stub then
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
  local function lenses()
    local out = {}
    local ok, got = pcall(vim.lsp.codelens.get, vim.lsp.codelens.enable and { bufnr = buf } or buf)
    for _, item in ipairs(ok and got or {}) do
      local lens = item.lens or item
      if lens.command then
        table.insert(out, lens)
      end
    end
    return out
  end
  local function lens_commands()
    return vim.tbl_map(function(l)
      return l.command.command
    end, lenses())
  end
  wait('the ▶ start app lens', function()
    return vim.tbl_contains(lens_commands(), 'subsecond.startApp')
  end)
  log('lenses: ' .. table.concat(lens_commands(), ', '))

  -- The app's output, as :SubsecondLog shows it (opened now, so it follows from the start).
  vim.cmd('SubsecondLog')
  local log_buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_set_current_win(win)
  local function log_text()
    return table.concat(vim.api.nvim_buf_get_lines(log_buf, 0, -1, false), '\n')
  end
  local function lines_equal(text, line)
    local n = 0
    for l in (text .. '\n'):gmatch('(.-)\n') do
      if l == line then
        n = n + 1
      end
    end
    return n
  end

  -- Run the ▶ start app lens as a user does: cursor on its line, vim.lsp.codelens.run(). The app
  -- builds, starts and prints; :SubsecondLog's buffer keeps its output.
  if not stub then
    vim.api.nvim_win_set_cursor(win, { 1, 0 })
    vim.lsp.codelens.run()
    wait("the app's output after running the start lens", function()
      return log_text():find('demo tick 2', 1, true) ~= nil
    end)
    wait('the running app lenses', function()
      return vim.tbl_contains(lens_commands(), 'subsecond.patch')
    end)
    log('ran the start lens; lenses now: ' .. table.concat(lens_commands(), ', '))
    local ticks = vim.tbl_filter(function(l)
      return l:match('^demo tick') ~= nil
    end, vim.split(log_text(), '\n'))
    log('app output: ' .. table.concat(vim.list_slice(ticks, 1, 2), ' | '))
  end

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

  -- Shown where the eye is: the warning's text as virtual text on its line, although Neovim's
  -- global default (0.11) keeps virtual text off.
  log('global virtual_text: ' .. vim.inspect(vim.diagnostic.config().virtual_text))
  -- The diagnostic's own text (lenses are virtual text too, with other words).
  local function virtual_text_on(lnum)
    local marks = vim.api.nvim_buf_get_extmarks(buf, -1, { lnum, 0 }, { lnum, -1 }, { details = true })
    for _, mark in ipairs(marks) do
      for _, chunk in ipairs(mark[4].virt_text or {}) do
        if chunk[1]:find(warning.message, 1, true) then
          return chunk[1]
        end
      end
    end
  end
  wait('the warning as virtual text', function()
    return virtual_text_on(warning.lnum) ~= nil
  end)
  log(('virtual text on line %d: %s'):format(warning.lnum + 1, vim.trim(virtual_text_on(warning.lnum))))

  -- The line of the added field: inside App, with no diagnostic of its own.
  local field_line
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:find('pub extra: bool', 1, true) then
      field_line = i
    end
  end

  if not stub then
    -- The restart lens sits on the struct, not at the top of the file.
    wait('the restart lens on App', function()
      for _, l in ipairs(lenses()) do
        if l.command.command == 'subsecond.restartApp' and l.command.title:find('requires restart', 1, true) then
          return l.range.start.line == warning.lnum
        end
      end
    end)
    log(('restart lens on line %d'):format(warning.lnum + 1))

    -- `gra` on the added field (not on the warning) offers the quick fix; applying it restarts
    -- the app (a second start in the log) and the warning goes (the new build has the field).
    vim.api.nvim_win_set_cursor(win, { field_line, 8 })
    local offered
    local function on_list(titles)
      offered = titles
    end
    local params = vim.lsp.util.make_range_params(win, client.offset_encoding)
    params.context = { diagnostics = {} }
    local req = vim.fn.has('nvim-0.11') == 1 and function(...)
      return client:request(...)
    end or client.request
    req('textDocument/codeAction', params, function(err, result)
      on_list(vim.tbl_map(function(a)
        return a.title
      end, err and {} or (result or {})))
    end, buf)
    wait('code actions on the field line', function()
      return offered ~= nil
    end)
    if not vim.tbl_contains(offered, 'Restart app to apply') then
      fail(('code actions on line %d were %s'):format(field_line, vim.inspect(offered)))
    end
    log(('code action on line %d (inside App): Restart app to apply'):format(field_line))
    local executed = {}
    local original_execute = subsecond.execute
    subsecond.execute = function(command, ...)
      table.insert(executed, command)
      return original_execute(command, ...)
    end
    vim.lsp.buf.code_action({
      apply = true,
      filter = function(a)
        return a.title == 'Restart app to apply'
      end,
    })
    wait('the quick fix to run subsecond.restartApp', function()
      return vim.tbl_contains(executed, 'subsecond.restartApp')
    end)
    subsecond.execute = original_execute
    wait('the restarted app in the log (its count starts again)', function()
      return lines_equal(log_text(), 'demo tick 1') >= 2
    end)
    wait('the warning to clear after the restart', function()
      return #layout_warnings() == 0
    end)
    wait('the statusline to show the restarted app running', function()
      return subsecond.statusline(buf) == '⚡ running'
    end)
    log('applied the quick fix: the app restarted and the warning cleared')
  else
    -- The stub answers only from the diagnostics under the cursor.
    local lsp_diag = warning.user_data and warning.user_data.lsp
    local actions
    local req = vim.fn.has('nvim-0.11') == 1 and function(...)
      return client:request(...)
    end or client.request
    req('textDocument/codeAction', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      range = lsp_diag.range,
      context = { diagnostics = { lsp_diag } },
    }, function(err, result)
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
  end
  log('code action: Restart app to apply')

  if not stub then
    -- Built before the save: type, pause (Neovim sends didChange; the server builds from the
    -- unsaved buffer in the background), save, patch: only the prepared patch is sent.
    for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if l:find('app.count += 1;', 1, true) then
        vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { (l:gsub('%+= 1;', '+= 2;')) })
      end
    end
    local prepared_so = project .. '/target/subsecond-lsp/demo/speculative/libdemo-speculative-*.so'
    wait('the patch built from the unsaved buffer', function()
      return vim.fn.glob(prepared_so) ~= ''
    end)
    vim.cmd('silent write')
    local patched
    subsecond.execute('subsecond.patch', buf, function(result)
      patched = result
    end)
    wait('the patch of the saved text', function()
      return patched ~= nil
    end)
    if not tostring(patched.message):find('prepared before the save', 1, true) then
      fail('the patch after a pause in typing was not the prepared one: ' .. vim.inspect(patched))
    end
    log('patch after a pause in typing: ' .. patched.message)
  end

  local line = subsecond.statusline(buf)
  if line == '' then
    fail('statusline is empty while the client is attached')
  end
  log('statusline: ' .. line)

  if not stub then
    -- :SubsecondLog opens the output in a window that follows it.
    vim.cmd('SubsecondLog')
    local log_win = vim.api.nvim_get_current_win()
    if vim.api.nvim_win_get_buf(log_win) ~= log_buf then
      fail(':SubsecondLog did not show the log buffer')
    end
    local shown = vim.api.nvim_buf_get_lines(log_buf, 0, -1, false)
    if vim.api.nvim_win_get_cursor(log_win)[1] ~= #shown then
      fail(':SubsecondLog window is not at the end of the output')
    end
    log(':SubsecondLog shows ' .. #shown .. ' lines, last: ' .. shown[#shown])
    wait('the log window to follow new output', function()
      local n = vim.api.nvim_buf_line_count(log_buf)
      return n > #shown + 2 and vim.api.nvim_win_get_cursor(log_win)[1] == n
    end)
    log('the log window follows the output')
    vim.api.nvim_set_current_win(win)
    vim.cmd('SubsecondStop')
    wait('the statusline to show the app stopped', function()
      return subsecond.statusline(buf) == '⚡ stopped'
    end)
    log('after :SubsecondStop: ' .. subsecond.statusline(buf))
  end

  -- Starting an app for real is done above; with the stub, check the user command, the status
  -- notification and the lens refresh it triggers.
  if stub then
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
