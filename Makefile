# Thin wrappers; every target sets up its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv run test test-fast bench lint clean golden chaos image-config system-packages test-trixie test-arm

# Debian packages the tests need, installed only when missing (root: apt-get; otherwise sudo):
#   systemd          systemd-analyze verify of the unit (device/system)
#   openssh-client   ssh, scp for fmd-provision deploy
#   openssh-server   a real sshd on a loopback port, the target of the deploy tests
#   dosfstools       mkfs.fat / fsck.fat, to check the boot images fmd-provision write-boot edits
#   libxkbcommon0, xkb-data  the reference the keyboard layout tables are checked against
#   faketime         the outbox's libfaketime clock smoke test
#   fiu-utils        fiu-run: ENOSPC injected on writes, the third disk-full source of the outbox tests
#   softhsm2         a real PKCS#11 token holding the terminal's client key in the mutual-TLS tests
#   libengine-pkcs11-openssl  OpenSSL's PKCS#11 engine (libp11): TLS client auth with a token's key
#   iso-codes        ISO 3166-1 / ISO 4217 lists that tools/generate_ai_table.py writes into the linters' data
#   chromium, chromium-driver  the headless browser (and its WebDriver) the web console's tests drive through Selenium
#   mosquitto, mosquitto-clients  a real MQTT broker per test (site ledger, fleet health) and
#                    mosquitto_sub, the anchor of the fleet benchmark
DEB_PACKAGES := systemd openssh-client openssh-server dosfstools libxkbcommon0 xkb-data faketime fiu-utils \
                softhsm2 libengine-pkcs11-openssl iso-codes chromium chromium-driver \
                mosquitto mosquitto-clients
# Debian packages of the long platform runs (make test-trixie, make test-arm; not part of make test):
#   debootstrap      a Debian Trixie root from Debian's own packages
#   qemu-user-static, binfmt-support  arm64 programs in the emulated Pi's root (binfmt_misc)
PLATFORM_DEB_PACKAGES := debootstrap qemu-user-static binfmt-support

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[device,host]" --group dev
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install everything from pyproject.toml

system-packages: ## install the Debian packages the tests need (see DEB_PACKAGES)
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian packages the tests need: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: $(STAMP) ## run the terminal on its embedded default (local simulator, console screen); ENROL=1: enrol by a scan first; COUNTERS=2: a second counter (site ledger)
	$(BIN)/python -m fmd_terminal.demo $(if $(ENROL),--enrol) $(if $(filter 2,$(COUNTERS)),--second-counter)

test: $(STAMP) system-packages ## the whole test suite, MicroPython run of the core included
	$(BIN)/ruff check device host tests benchmarks tools
	$(BIN)/python tests/core/micropython_run.py
	$(BIN)/python -m pytest -n 2 -q

test-fast: $(STAMP) ## the tests without the slow crash and load tests
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

test-trixie: $(STAMP) ## the whole suite on Debian Trixie's Python 3.13, in a chroot (root; long: see README)
	$(MAKE) system-packages DEB_PACKAGES="$(PLATFORM_DEB_PACKAGES)"
	nice -n 19 sh tools/platform/test-trixie.sh

test-arm: $(STAMP) ## install.sh, doctor and run in an emulated arm64 Debian (root; long: see README)
	$(MAKE) system-packages DEB_PACKAGES="$(PLATFORM_DEB_PACKAGES)"
	nice -n 19 sh tools/platform/test-arm.sh

bench: $(STAMP) ## benchmarks, each beside its anchor
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check device host tests benchmarks tools
	$(BIN)/mypy

golden: $(STAMP) ## regenerate golden files (screens); review the diff before committing
	FMD_REGENERATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/terminal -k golden

chaos: $(STAMP) ## 10-minute chaos run of the outbox against the simulator (prints its seed)
	$(BIN)/python tests/terminal/outbox/chaos.py --minutes 10

image-config: $(STAMP) ## files to turn a stock Raspberry Pi OS image into a terminal (build/image-config)
	$(BIN)/fmd-provision image-config --out build/image-config

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
