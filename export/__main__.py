import sys

from .bundle_export import main

sys.exit(main())
