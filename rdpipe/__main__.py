from rdpipe.cli import main

main()
