from auditcage.cli import main

main()
