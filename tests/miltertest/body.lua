-- body.lua: a recipient without consent; the HTML body carries a pixel and a
-- tracked link. The body is replaced, X-Consent-Milter is added and the
-- read-receipt header is deleted.
local ok, err = pcall(function()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  if conn == nil then error("cannot connect") end
  if mt.conninfo(conn, "client.example", "127.0.0.1") ~= nil then error("conninfo") end
  if mt.mailfrom(conn, "<news@sender.example>") ~= nil then error("mailfrom") end
  if mt.rcptto(conn, "<nobody@rcpt.example>") ~= nil then error("rcptto") end
  mt.header(conn, "From", " news@sender.example")
  mt.header(conn, "Disposition-Notification-To", " news@sender.example")
  mt.header(conn, "MIME-Version", " 1.0")
  mt.header(conn, "Content-Type", " text/html; charset=us-ascii")
  if mt.eoh(conn) ~= nil then error("eoh") end
  if mt.getreply(conn) ~= SMFIR_CONTINUE then error("expected CONTINUE at eoh: the body is needed") end
  mt.bodystring(conn, '<p>Hi</p><img src="https://abc.r.eu-west-1.awstrack.me/I0/0102018c/x" width="1" height="1">\r\n')
  if mt.getreply(conn) ~= SMFIR_CONTINUE then error("expected CONTINUE after a body chunk") end
  if mt.eom(conn) ~= nil then error("eom") end
  if mt.getreply(conn) ~= SMFIR_ACCEPT then error("expected ACCEPT at eom") end
  if not mt.eom_check(conn, MT_BODYCHANGE, '<p>Hi</p>\r\n') then error("body not replaced by the stripped version") end
  if not mt.eom_check(conn, MT_HDRADD, "X-Consent-Milter") then error("X-Consent-Milter not added") end
  if not mt.eom_check(conn, MT_HDRDELETE, "Disposition-Notification-To") then error("read receipt header kept") end
  mt.disconnect(conn)
end)
if not ok then print("FAIL: " .. tostring(err)); os.exit(1) end
