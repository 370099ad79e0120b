#!/usr/bin/env python3
"""Print the decoded text parts of a message (an oracle independent of the milter).

usage: decode-parts.py FILE   -> each text part as "=== TYPE" then its text
exit 1 if Python's email parser reports a defect that makes a part unreadable.
"""
import email
import email.policy
import sys

with open(sys.argv[1], "rb") as fp:
    msg = email.message_from_binary_file(fp, policy=email.policy.default)
status = 0
for part in msg.walk():
    if part.get_content_maintype() != "text":
        continue
    try:
        text = part.get_content()
    except Exception as e:  # undecodable part: a corrupted rewrite
        print(f"=== {part.get_content_type()} UNDECODABLE {e}")
        status = 1
        continue
    print(f"=== {part.get_content_type()}")
    print(text)
sys.exit(status)
