-- Headless check of lua/subsecond/app.lua, without a server: `subsecond/runInTerminal` opens a
-- terminal that runs the command (in its cwd, with its env) and answers its pid;
-- `subsecond/appOutput` lines reach the :SubsecondLog buffer, which keeps following them.
-- usage: nvim --headless -l editors/neovim/test/app.lua
local plugin = vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, 'S').source:sub(2))))
vim.opt.rtp:prepend(plugin)

local function fail(msg)
  io.stderr:write('app-smoke: FAIL: ' .. msg .. '\n')
  os.exit(1)
end

local app = require('subsecond.app')
app.setup()
if vim.lsp.handlers['subsecond/runInTerminal'] ~= app.on_run_in_terminal then
  fail('the runInTerminal handler is not registered')
end

-- runInTerminal: the command runs in a terminal buffer with the requested cwd and env.
local out = vim.fn.tempname()
local dir = vim.fn.fnamemodify(vim.fn.tempname(), ':h')
local result = app.on_run_in_terminal(nil, {
  args = { 'sh', '-c', 'printf "%s %s %s" "$SUBSECOND_T" "$(pwd)" "$$" > ' .. out .. '; sleep 3' },
  cwd = dir,
  env = { SUBSECOND_T = 'from-env' },
  title = 'demo (subsecond)',
})
if type(result) ~= 'table' or type(result.processId) ~= 'number' then
  fail('no processId in the answer: ' .. vim.inspect(result))
end
if not vim.wait(5000, function()
  return vim.fn.filereadable(out) == 1 and #vim.fn.readfile(out) > 0
end) then
  fail('the command did not run')
end
local said = vim.fn.readfile(out)[1]
local env, cwd, pid = said:match('^(%S+) (%S+) (%d+)$')
if env ~= 'from-env' then
  fail('env not passed: ' .. said)
end
if vim.fn.resolve(cwd) ~= vim.fn.resolve(dir) then
  fail('cwd not used: ' .. said .. ' vs ' .. dir)
end
if tonumber(pid) ~= result.processId then
  fail(('answered pid %d, the command ran as %s'):format(result.processId, pid))
end
local terminals = vim.tbl_filter(function(b)
  return vim.bo[b].buftype == 'terminal'
end, vim.api.nvim_list_bufs())
if #terminals ~= 1 then
  fail('expected one terminal buffer, found ' .. #terminals)
end
print('app-smoke: runInTerminal ran the command in a terminal (pid ' .. pid .. ')')

-- appOutput before and after :SubsecondLog opens.
app.on_app_output(nil, { stream = 'stdout', line = 'line one' })
vim.wait(200)
vim.cmd('SubsecondLog')
local buf = vim.api.nvim_get_current_buf()
local function has(line)
  return vim.tbl_contains(vim.api.nvim_buf_get_lines(buf, 0, -1, false), line)
end
if not has('line one') then
  fail('an early line is missing from the log buffer: ' .. vim.inspect(vim.api.nvim_buf_get_lines(buf, 0, -1, false)))
end
app.on_app_output(nil, { stream = 'stderr', line = 'line two' })
if not vim.wait(2000, function()
  return has('line two')
end) then
  fail('a later line did not reach the log buffer')
end
local last = vim.api.nvim_win_get_cursor(0)[1]
if last ~= vim.api.nvim_buf_line_count(buf) then
  fail('the log window does not follow the output')
end
print('app-smoke: :SubsecondLog follows subsecond/appOutput')
print('app-smoke: passed')
os.exit(0)
