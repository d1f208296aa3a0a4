-- :checkhealth subsecond
local M = {}

function M.check()
  local health = vim.health
  health.start('subsecond')
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim 0.10 or newer is required')
  end

  local exe = 'subsecond-lsp'
  if vim.fn.executable(exe) == 1 then
    health.ok(exe .. ' found: ' .. vim.fn.exepath(exe))
  else
    health.warn(exe .. ' is not on PATH', { 'put subsecond-lsp on PATH, or pass cmd = { ... } to setup()' })
  end
  if vim.fn.executable('cargo') == 1 then
    health.ok('cargo found')
  else
    health.warn('cargo is not on PATH: the server cannot build or run your app')
  end

  local clients = vim.lsp.get_clients({ name = 'subsecond-lsp' })
  if #clients == 0 then
    health.info('no subsecond-lsp client is running (open a Rust file in a Cargo project)')
  end
  for _, client in ipairs(clients) do
    health.info(('client %d rooted at %s'):format(client.id, client.root_dir or '?'))
  end
end

return M
