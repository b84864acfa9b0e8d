"""The drills' email backend: the file backend, one file per message, optionally slow.

DRILL_SEND_DELAY (seconds) is slept before each message is written, as a slow SMTP server
would; DRILL_AFTER_SEND_DELAY after it (the server has the message, its "250 OK" is slow), to
widen on purpose the window where a killed worker has sent an email but not marked it sent;
the file's name carries the time it was written (ns) so a drill can measure how long after the
send the row was marked sent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class TimedFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        delay = float(os.environ.get("DRILL_SEND_DELAY", "0"))
        folder = Path(settings.EMAIL_FILE_PATH)
        for message in email_messages:
            if delay:
                time.sleep(delay)
            data = message.message().as_bytes() + b"\n" + b"-" * 79 + b"\n"
            path = folder / f"{time.time_ns()}-{os.getpid()}.eml"
            path.write_bytes(data)  # one write: a file is a message that left
            after = float(os.environ.get("DRILL_AFTER_SEND_DELAY", "0"))
            if after:
                time.sleep(after)
        return len(email_messages)
