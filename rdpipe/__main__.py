from rdpipe.entry import main

main()
