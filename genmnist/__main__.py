import sys

from genmnist.cli import main

sys.exit(main())
