import sys

from genface.cli import main

sys.exit(main())
