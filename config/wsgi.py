import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What start-up loaded lives as long as the process: keep it out of the cyclic
# garbage collector's scans, which otherwise walk it again and again under load.
gc.collect()
gc.freeze()
