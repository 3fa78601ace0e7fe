# safethird: make help lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

GRPCURL_VERSION := v1.9.3
GHZ_VERSION := v0.120.0
VEGETA_VERSION := v12.13.0
BENCHSTAT_VERSION := v0.0.0-20260908200009-22c9c6c9d4da

.PHONY: help
help: ## Show this help.
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

.PHONY: generate
generate: ## Regenerate the Go code and openapi/openapi.yaml from the protos (idempotent).
	go tool buf format -w
	go tool buf generate

# A predefined rule written inside a message literal (`string: {[safethird.v1.alpha2]: true}`)
# is valid protobuf text format, but protobufjs, and so @grpc/proto-loader, cannot parse it
# ("illegal name '['"); the option-path form
# (`(buf.validate.field).repeated.items.string.(safethird.v1.alpha2) = true`) means the same.
MESSAGE_LITERAL_EXTENSION := ^[^/]*\[[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+\][[:space:]]*:

.PHONY: lint
lint: ## go vet, gofmt, buf lint, buf format check, and no extension inside a message literal in proto/safethird.
	go vet ./...
	go vet -tags deploy ./deploy
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go tool buf lint
	go tool buf format -d --exit-code
	@if grep -nE '$(MESSAGE_LITERAL_EXTENSION)' proto/safethird/v1/*.proto; then \
		echo "lint: a predefined rule inside a message literal ({[pkg.rule]: ...}) breaks @grpc/proto-loader:"; \
		echo "      write it as an option path: (buf.validate.field).repeated.items.string.(safethird.v1.alpha2) = true"; \
		exit 1; fi

.PHONY: breaking
breaking: ## Check the protos against the previous commit for wire/JSON breaking changes.
	@if git cat-file -e HEAD~1:proto/safethird/v1 2>/dev/null; then \
		go tool buf breaking --against '.git#ref=HEAD~1'; \
	else echo "breaking: no previous commit with protos, skipped"; fi

.PHONY: checkgenerate
checkgenerate: generate ## Fail when regenerating changes the tree.
	@git diff --exit-code -- proto openapi buf.gen.yaml || { echo "generated code is stale: run make generate"; exit 1; }
	@test -z "$$(git status --porcelain -- proto openapi)" || { git status --porcelain -- proto openapi; echo "untracked generated files"; exit 1; }

.PHONY: seal
seal: build ## Seal data/ after editing it (validate, run data/tests, rewrite data/manifest.json), then print the answers changed since the last sealed data/ in git (HEAD).
	$(BIN)/safethird dataset seal data
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	if git archive HEAD data 2>/dev/null | tar -x -C "$$tmp" && [ -f "$$tmp/data/manifest.json" ]; then \
		echo "--- answers changed since HEAD's data/ (safethird dataset diff)"; \
		$(BIN)/safethird dataset diff "$$tmp/data" data || echo "seal: sealed, but HEAD's data/ could not be compared (above)"; \
	else echo "seal: no sealed data/ at HEAD to compare with"; fi

.PHONY: checkseal
checkseal: ## Fail when data/manifest.json is not the seal of data/ (run make seal and commit it).
	go run ./cmd/safethird dataset seal data
	@git diff --exit-code -- data/manifest.json || { echo "data/manifest.json is stale: run make seal and commit it"; exit 1; }

.PHONY: tools
tools: $(BIN)/grpcurl $(BIN)/ghz ## Install grpcurl and ghz from the Go module proxy into ./bin.

$(BIN)/grpcurl:
	GOBIN=$(BIN) go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)

$(BIN)/ghz:
	GOBIN=$(BIN) go install github.com/bojand/ghz/cmd/ghz@$(GHZ_VERSION)

$(BIN)/vegeta:
	GOBIN=$(BIN) go install github.com/tsenart/vegeta/v12@$(VEGETA_VERSION)

.PHONY: test
test: tools ## Run the tests (installs grpcurl and ghz first).
	@# -timeout: the server's and the CLI's packages start dozens of real
	@# servers, each loading the dataset under the race detector; on a busy
	@# 2-core machine a package can pass go test's 10-minute default.
	go test -race -count=1 -timeout 25m ./...

.PHONY: build
build: ## Build the safethird binary into ./bin.
	go build -o $(BIN)/safethird ./cmd/safethird

.PHONY: run
run: ## Start the service on the embedded dataset at 127.0.0.1:50051.
	go run ./cmd/safethird serve

.PHONY: ci
ci: lint checkgenerate checkseal breaking test ## Everything CI runs.

.PHONY: generate-ts
generate-ts: ## Regenerate the TypeScript client code (clients/typescript/src/gen) with the npm plugin.
	cd clients/typescript && npm ci --no-audit --no-fund
	go tool buf generate --template buf.gen.ts.yaml

.PHONY: client-tests
client-tests: node-test ts-test openapi-test python-test java-test ## Every client recipe of the README, each from a clean directory, against a real server.

.PHONY: node-test
node-test: ## Node.js with @grpc/grpc-js and @grpc/proto-loader loading proto/ at run time, against a real server (needs Node.js 20+ and npm).
	bash clients/node/run-test.sh

.PHONY: ts-test
ts-test: ## The TypeScript (Connect-ES) client over gRPC and the Connect protocol, against a real server (needs Node.js 20+ and npm).
	bash clients/typescript/run-test.sh

.PHONY: openapi-test
openapi-test: ## Lint the served /openapi.yaml (Redocly, Spectral) and call the REST paths with a client generated from it (needs Node.js 20+ and npm).
	bash clients/openapi/run-test.sh

.PHONY: readme-test
readme-test: ## Run the README's quick start and "From git clone to a memo" as written, in a fresh clone and a network namespace of its own (needs root and iproute2).
	bash test/readme/run.sh

.PHONY: deploy-test
deploy-test: ## Check deploy/ offline: strict decoding into the Kubernetes API types, kustomize builds, the flags passed.
	go test -tags deploy -count=1 ./deploy

.PHONY: python-test
python-test: ## The README's Python recipe (protoc, gRPC and REST) against a real server (needs Debian's python3-grpcio, python3-protobuf, protobuf-compiler, protobuf-compiler-grpc).
	bash clients/python/run-test.sh

.PHONY: java-test
java-test: ## The README's Java recipe (protoc, gRPC Java) against a real server (needs Debian's JDK and gRPC Java packages; see clients/java/run-test.sh).
	bash clients/java/run-test.sh

.PHONY: iso-codes
iso-codes: ## Refresh data/iso3166 from Debian's iso-codes package.
	apt-get install -y iso-codes
	cp /usr/share/iso-codes/json/iso_3166-1.json data/iso3166/iso_3166-1.json

# MIXED is how long `make bench` runs its mixed load while it samples the
# server's resident memory; the target is stated for 10 minutes.
MIXED ?= 10m

.PHONY: bench
bench: build tools $(BIN)/vegeta ## Every cost target, met or not, on the embedded and a synthetic 200-country dataset side by side (ghz, vegeta), start-up, memory idle and under MIXED (10m) of mixed load, profiles, a 20,000-file dataset; writes bench/results.md.
	GOBIN=$(BIN) go install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)
	go test -run '^$$' -bench 'AssessCountry|DistinctQuestions' -benchmem -count 6 ./assessment | tee bench/engine.txt
	$(BIN)/benchstat bench/engine.txt | tee bench/engine-stat.txt
	go run ./bench -binary $(BIN)/safethird -ghz $(BIN)/ghz -vegeta $(BIN)/vegeta -engine bench/engine-stat.txt \
		-notes bench/levers.md -mixed $(MIXED) -profile $(BIN)/profiles

FUZZTIME ?= 5m
# package:FuzzTarget:CI budget, each fuzzed in turn by `make fuzz`. The CI
# budget is a count of calls, about 20 s of each on an idle 2-core machine:
# a duration races Go 1.26's fuzz coordinator on a busy machine, which then
# fails with "context deadline exceeded" and no input (go.dev/issue/75804,
# fixed in Go 1.27); a count has no deadline to race.
FUZZ_TARGETS := assessment:FuzzAssessCountry:100000x assessment:FuzzAssessRoute:30000x dataset:FuzzLoad:500x dataset:FuzzQuoteMatcher:50000x

.PHONY: fuzz
fuzz: ## Fuzz each target for FUZZTIME (5m); a crasher lands in its package's testdata/fuzz.
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}; \
		[ "$(FUZZTIME)" = ci ] || budget=$(FUZZTIME); \
		echo "fuzz $$name in ./$$pkg for $$budget"; \
		go test ./$$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget || exit 1; \
	done

.PHONY: fuzz-short
fuzz-short: ## Fuzz each target for its CI budget, a count of calls, as CI does.
	$(MAKE) fuzz FUZZTIME=ci

.PHONY: soak
soak: tools ## The long reliability tests (10 min of load, 60 s replica loss); prints each figure.
	set -o pipefail; SAFETHIRD_SOAK=1 go test ./test/reliability -run . -count=1 -timeout 90m -v 2>&1 | tee $(BIN)/soak.log
	@echo "--- figures"; grep -h 'figure:' $(BIN)/soak.log
