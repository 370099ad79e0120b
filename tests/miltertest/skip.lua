-- skip.lua: an exempt (security) message needs no body: the first body chunk
-- is answered with SKIP, and at end of message only the internal purpose
-- header is removed.
local ok, err = pcall(function()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  if conn == nil then error("cannot connect") end
  if not mt.test_option(conn, SMFIP_SKIP) then error("SKIP not negotiated") end
  if mt.conninfo(conn, "client.example", "127.0.0.1") ~= nil then error("conninfo") end
  if mt.mailfrom(conn, "<security@sender.example>") ~= nil then error("mailfrom") end
  if mt.rcptto(conn, "<nobody@rcpt.example>") ~= nil then error("rcptto") end
  mt.header(conn, "X-Tracking-Purpose", " security")
  mt.header(conn, "Content-Type", " text/html")
  if mt.eoh(conn) ~= nil then error("eoh") end
  if mt.getreply(conn) ~= SMFIR_CONTINUE then error("expected CONTINUE at eoh (a header must go)") end
  mt.bodystring(conn, '<img src="https://abc.r.eu-west-1.awstrack.me/I0/0102018c/x" width="1" height="1">\r\n')
  if mt.getreply(conn) ~= SMFIR_SKIP then error("expected SKIP for the body, got " .. tostring(mt.getreply(conn))) end
  if mt.eom(conn) ~= nil then error("eom") end
  if mt.eom_check(conn, MT_BODYCHANGE) then error("body of an exempt message replaced") end
  if not mt.eom_check(conn, MT_HDRDELETE, "X-Tracking-Purpose") then error("X-Tracking-Purpose not removed") end
  mt.disconnect(conn)
end)
if not ok then print("FAIL: " .. tostring(err)); os.exit(1) end
