"""WSGI entry point for other servers: ``waitress-serve dashboard.wsgi:server``.

The Procfile runs ``python -m dashboard``, which serves with waitress itself.
"""

import logging

from dashboard.app import create_app
from dashboard.config import config_from_env

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app(config_from_env())
server = app.server
