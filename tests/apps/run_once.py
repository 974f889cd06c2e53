# Runs a walkthrough's app exactly as written, but stops at its first time.sleep (its loop would
# never end), so a test can read one iteration's output.
import runpy
import sys
import time


def stop(_seconds):
    sys.exit(0)


time.sleep = stop
runpy.run_path(sys.argv[1], run_name="__main__")
