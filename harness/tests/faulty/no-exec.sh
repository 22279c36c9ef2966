#!/bin/sh
# A correct aima behind a wrapper that runs it as a child instead of exec-ing it, as
# distribution launchers often do: signals sent to the wrapper's pid alone never reach aima.
# The harness must still pass every criterion and leave no aima process behind.
# Needs AIMA_REAL_BIN.
"${AIMA_REAL_BIN:?AIMA_REAL_BIN must name the real aima binary}" "$@"
