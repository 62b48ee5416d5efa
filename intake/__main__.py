from intake.cli import main

# Guarded: a forkserver's workers import the main module again (as __mp_main__).
if __name__ == "__main__":
    raise SystemExit(main())
