from sparsekws.cli import main

raise SystemExit(main())
