-- Where the app lives in Neovim: answers the server's `subsecond/runInTerminal` request (setting
-- `appTerminal = "editor"`) by opening the app in a terminal split, and keeps the app's output
-- at hand: `subsecond/appOutput` lines go to a log buffer that `:SubsecondLog` shows (it starts
-- with the launch's log file, whose path the status carries as `appLog`).
local M = {}

local LOG_NAME = 'subsecond://app-log'
local MAX_LINES = 5000
local log_buf = nil
local pending = {} -- lines that arrived before the buffer existed (bounded)

local function is_open(buf)
  return buf ~= nil and vim.api.nvim_buf_is_valid(buf)
end

local function windows_of(buf)
  local out = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_buf(win) == buf then
      table.insert(out, win)
    end
  end
  return out
end

-- Appends lines; windows whose cursor was on the last line follow the output.
local function append(lines)
  if not is_open(log_buf) then
    for _, l in ipairs(lines) do
      table.insert(pending, l)
    end
    while #pending > MAX_LINES do
      table.remove(pending, 1)
    end
    return
  end
  local count = vim.api.nvim_buf_line_count(log_buf)
  local following = {}
  for _, win in ipairs(windows_of(log_buf)) do
    following[win] = vim.api.nvim_win_get_cursor(win)[1] >= count
  end
  vim.bo[log_buf].modifiable = true
  local first = vim.api.nvim_buf_get_lines(log_buf, 0, 1, false)[1]
  if count == 1 and first == '' then
    vim.api.nvim_buf_set_lines(log_buf, 0, 1, false, lines)
  else
    vim.api.nvim_buf_set_lines(log_buf, -1, -1, false, lines)
  end
  local total = vim.api.nvim_buf_line_count(log_buf)
  if total > MAX_LINES then
    vim.api.nvim_buf_set_lines(log_buf, 0, total - MAX_LINES, false, {})
    total = MAX_LINES
  end
  vim.bo[log_buf].modifiable = false
  for win, follow in pairs(following) do
    if follow then
      vim.api.nvim_win_set_cursor(win, { total, 0 })
    end
  end
end

local function log_path()
  local ok, subsecond = pcall(require, 'subsecond')
  local status = ok and subsecond.status and subsecond.status(0) or nil
  return status and status.appLog or nil
end

--- Opens (or shows) the log buffer: the log file's last lines, then the live output.
function M.open_log()
  if not is_open(log_buf) then
    log_buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(log_buf, LOG_NAME)
    vim.bo[log_buf].buftype = 'nofile'
    vim.bo[log_buf].bufhidden = 'hide'
    vim.bo[log_buf].swapfile = false
    local path = log_path()
    local lines = {}
    if path and vim.fn.filereadable(path) == 1 then
      lines = vim.fn.readfile(path, '', -MAX_LINES)
      pending = {} -- the file already has them
      table.insert(lines, 1, '-- ' .. path .. ' (live output follows)')
    else
      table.insert(lines, '-- no app log yet: start the app (:SubsecondStart)')
    end
    vim.list_extend(lines, pending)
    pending = {}
    append(lines)
  end
  local wins = windows_of(log_buf)
  if #wins > 0 then
    vim.api.nvim_set_current_win(wins[1])
  else
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, log_buf)
  end
  vim.api.nvim_win_set_cursor(0, { vim.api.nvim_buf_line_count(log_buf), 0 })
end

--- `subsecond/appOutput`: one line the app printed.
function M.on_app_output(_, params)
  if type(params) ~= 'table' or type(params.line) ~= 'string' then
    return
  end
  vim.schedule(function()
    append({ params.line })
  end)
end

--- `subsecond/runInTerminal`: opens the app in a terminal split and answers with its pid.
function M.on_run_in_terminal(_, params)
  if type(params) ~= 'table' or type(params.args) ~= 'table' or #params.args == 0 then
    return nil, vim.lsp.rpc.rpc_response_error(vim.lsp.protocol.ErrorCodes.InvalidParams, 'args missing')
  end
  local prev = vim.api.nvim_get_current_win()
  vim.cmd('botright split')
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_win_set_buf(0, buf)
  local opts = { cwd = params.cwd, env = params.env }
  local job
  if vim.fn.has('nvim-0.11') == 1 then
    opts.term = true
    job = vim.fn.jobstart(params.args, opts)
  else
    job = vim.fn.termopen(params.args, opts)
  end
  if params.title then
    pcall(vim.api.nvim_buf_set_name, buf, 'subsecond://' .. params.title)
  end
  if vim.api.nvim_win_is_valid(prev) then
    vim.api.nvim_set_current_win(prev)
  end
  if type(job) ~= 'number' or job <= 0 then
    return nil, vim.lsp.rpc.rpc_response_error(vim.lsp.protocol.ErrorCodes.InternalError, 'could not start a terminal')
  end
  return { processId = vim.fn.jobpid(job) }
end

--- Registers the handlers (for every client; the methods are subsecond's own) and :SubsecondLog.
function M.setup()
  vim.lsp.handlers['subsecond/appOutput'] = M.on_app_output
  vim.lsp.handlers['subsecond/runInTerminal'] = M.on_run_in_terminal
  vim.api.nvim_create_user_command('SubsecondLog', M.open_log, { desc = "subsecond-lsp: the app's output (follows it)" })
end

return M
