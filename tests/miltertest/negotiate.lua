-- negotiate.lua: the milter asks for the actions it uses and negotiates away
-- every event and reply it does not need (protocol economy), and a message
-- for a recipient who consented to both purposes ends at end-of-headers with
-- ACCEPT, so the MTA never sends the body.
-- consentctl: grant reader@rcpt.example --purposes open,click --source test --text v1
local ok, err = pcall(function()
  local conn = mt.connect(os.getenv("MILTER_SOCKET"), 40, 0.05)
  if conn == nil then error("cannot connect to " .. os.getenv("MILTER_SOCKET")) end
  if mt.negotiate(conn, nil, nil, nil) ~= nil then error("negotiate failed") end
  for _, name in ipairs({"SMFIF_CHGBODY", "SMFIF_ADDHDRS", "SMFIF_CHGHDRS"}) do
    if not mt.test_action(conn, _G[name]) then error("action not requested: " .. name) end
  end
  for _, name in ipairs({"SMFIP_NOHELO", "SMFIP_NODATA", "SMFIP_NOUNKNOWN",
                         "SMFIP_NR_CONN", "SMFIP_NR_MAIL", "SMFIP_NR_HDR",
                         "SMFIP_HDR_LEADSPC", "SMFIP_SKIP"}) do
    if _G[name] == nil then error("miltertest lacks constant " .. name) end
    if not mt.test_option(conn, _G[name]) then error("option not requested: " .. name) end
  end
  if mt.test_action(conn, SMFIF_ADDRCPT) then error("asked for ADDRCPT it never uses") end
  if mt.conninfo(conn, "client.example", "127.0.0.1") ~= nil then error("conninfo failed") end
  if mt.mailfrom(conn, "<news@sender.example>") ~= nil then error("mailfrom failed") end
  if mt.rcptto(conn, "<reader@rcpt.example>") ~= nil then error("rcptto failed") end
  if mt.header(conn, "Subject", " hello") ~= nil then error("header failed") end
  if mt.eoh(conn) ~= nil then error("eoh failed") end
  if mt.getreply(conn) ~= SMFIR_ACCEPT then
    error("expected ACCEPT at end of headers, got " .. tostring(mt.getreply(conn)))
  end
  mt.disconnect(conn)
end)
if not ok then print("FAIL: " .. tostring(err)); os.exit(1) end
