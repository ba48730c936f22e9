# Source me: `source setup.sh` (bash or zsh).  Compatible with the original study's setup:
#   OUTPUT_DIR    where every workflow writes (default ./output)
#   WORKFLOW_DIR  this checkout (the workflows and their environment)
#   ROOT_SOURCE   folder or file of beam-test ROOT ntuples, for `hgcal-ae ingest-root` (optional)
# and defines `SetupExampleModel <NDIM> [options]`, the MNIST example with latent dim NDIM.
if [ -n "${BASH_SOURCE:-}" ]; then _hgcal_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)";
else _hgcal_here="$(cd "$(dirname "$0")" && pwd)"; fi

export WORKFLOW_DIR="${WORKFLOW_DIR:-$_hgcal_here}"
export OUTPUT_DIR="${OUTPUT_DIR:-$PWD/output}"
export ROOT_SOURCE="${ROOT_SOURCE:-}"
if [ -x "$WORKFLOW_DIR/.venv/bin/hgcal-ae" ]; then
    case ":$PATH:" in *":$WORKFLOW_DIR/.venv/bin:"*) ;; *) export PATH="$WORKFLOW_DIR/.venv/bin:$PATH" ;; esac
fi
unset _hgcal_here

SetupExampleModel() {
    if [ $# -lt 1 ]; then
        echo "usage: SetupExampleModel <NDIM> [hgcal-ae mnist options]" >&2
        return 2
    fi
    local ndim="$1"; shift
    hgcal-ae mnist --latent-dim "$ndim" --output-dir "$OUTPUT_DIR" "$@"
}
