#!/bin/sh
# `esweep` in the worker image. Before a trial (`esweep train …`) it runs `esweep doctor --quick` on
# the backend the trial must use (ESWEEP_DOCTOR_BACKEND, default gpu; `skip` turns the check off), so
# a node without a working GPU fails the attempt at once with the reason on stderr, exit code 1.
set -e
CLI=/app/dist/esweep.mjs
backend="${ESWEEP_DOCTOR_BACKEND:-gpu}"
if [ "$1" = train ] && [ "$backend" != skip ]; then
  case " $* " in
    *" --help "* | *" -h "*) ;;
    *) node "$CLI" doctor --quick --backend "$backend" >&2 ;;
  esac
fi
exec node "$CLI" "$@"
