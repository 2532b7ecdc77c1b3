"""Gunicorn reads this file from the working directory on start (`gunicorn wsgi:app`).

Gunicorn has no setting for its `Server` header; the response class reads this module-level
name on every response, so replacing it here is the one place its banner changes.
"""

import gunicorn.http.wsgi

from app.webserver import SERVER_BANNER

gunicorn.http.wsgi.SERVER = SERVER_BANNER

# Access log lines (with --access-logfile) hold the path without its query string: filter links
# carry what staff typed, such as a patient's name.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)s'
