-- inflight.lua (driven by tests/cli/signals.sh): a message in progress when
-- the milter gets SIGTERM still completes: the shell sends the signal while
-- this script sleeps between end of headers and the body.
local ok, err = pcall(function()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  if conn == nil then error("cannot connect") end
  mt.set_timeout(20)
  if mt.conninfo(conn, "client.example", "127.0.0.1") ~= nil then error("conninfo") end
  if mt.mailfrom(conn, "<news@sender.example>") ~= nil then error("mailfrom") end
  if mt.rcptto(conn, "<nobody@rcpt.example>") ~= nil then error("rcptto") end
  mt.header(conn, "Content-Type", " text/html")
  if mt.eoh(conn) ~= nil then error("eoh") end
  local f = io.open(os.getenv("READY_FILE"), "w"); f:write("ready\n"); f:close()
  mt.sleep(1.5)
  mt.bodystring(conn, '<p>x</p><img src="https://abc.r.eu-west-1.awstrack.me/I0/0102018c/x" width="1" height="1">\r\n')
  if mt.eom(conn) ~= nil then error("eom") end
  if mt.getreply(conn) ~= SMFIR_ACCEPT then error("expected ACCEPT at eom") end
  if not mt.eom_check(conn, MT_BODYCHANGE, '<p>x</p>\r\n') then error("body not rewritten") end
  mt.disconnect(conn)
end)
if not ok then print("FAIL: " .. tostring(err)); os.exit(1) end
