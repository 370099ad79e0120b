-- unchanged.lua: a recipient without consent, but nothing in the body tracks:
-- the body is processed and NOT replaced (smfi_replacebody only when changed).
local ok, err = pcall(function()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  if conn == nil then error("cannot connect") end
  if mt.conninfo(conn, "client.example", "127.0.0.1") ~= nil then error("conninfo") end
  if mt.mailfrom(conn, "<news@sender.example>") ~= nil then error("mailfrom") end
  if mt.rcptto(conn, "<nobody@rcpt.example>") ~= nil then error("rcptto") end
  mt.header(conn, "Content-Type", " text/html; charset=us-ascii")
  if mt.eoh(conn) ~= nil then error("eoh") end
  mt.bodystring(conn, '<p>Plain news, <a href="https://www.example.org/article">an article</a>.</p>\r\n')
  if mt.eom(conn) ~= nil then error("eom") end
  if mt.getreply(conn) ~= SMFIR_ACCEPT then error("expected ACCEPT at eom") end
  if mt.eom_check(conn, MT_BODYCHANGE) then error("body replaced although nothing changed") end
  if mt.eom_check(conn, MT_HDRDELETE) then error("a header was deleted") end
  mt.disconnect(conn)
end)
if not ok then print("FAIL: " .. tostring(err)); os.exit(1) end
