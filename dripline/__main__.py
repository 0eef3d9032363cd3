from dripline.cli import main

main()
