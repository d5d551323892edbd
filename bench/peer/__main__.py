from bench.peer.cli import main

raise SystemExit(main())
