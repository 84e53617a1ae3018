import Foundation
import Testing
@testable import SlipwayCore

struct ConfigTests {
    static let valid = """
        app: shop
        release:
          files: ["bin/shop"]
        process:
          command: "./shop serve --port $PORT"
          instances: 2
          env: { LOG_LEVEL: info, WORKERS: 4 }
          secrets: [DATABASE_URL]
          stop_timeout: 10s
        health:
          path: /health/ready
          interval: 500ms
          deadline: 1m
        router:
          listen: 0.0.0.0:8080
          drain_timeout: 10s
        strategy: blue-green
        keep_releases: 5
        environments:
          staging:    { router: { listen: 127.0.0.1:8100 }, process: { instances: 1 } }
          production: {}
        """

    @Test func anInlinedSecretIsNeverEchoed() {
        let yaml = "app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, mysql: { url_secret: \"mysql://u:hunter2@h/db\" } }], stores: [{ local: b }] }\n"
        do {
            _ = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("accepted an inlined secret")
        } catch {
            #expect(error.description.contains("backup.sources[0].mysql.url_secret"))
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func validConfigResolvesEnvironmentsByDeepMerge() throws {
        let cfg = try ConfigLoader.parse(yaml: Self.valid, file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        #expect(cfg.app == "shop")
        #expect(cfg.root == "/srv/shop/.slipway")
        #expect(cfg.environmentNames == ["staging", "production"])
        let staging = try #require(cfg.environments["staging"])
        let production = try #require(cfg.environments["production"])
        #expect(staging.router.listen == ListenAddress(host: "127.0.0.1", port: 8100))
        #expect(staging.router.drainTimeout == .seconds(10))  // inherited from the top level
        #expect(staging.process.instances == 1)
        #expect(staging.process.command == "./shop serve --port $PORT")  // merged, not replaced
        #expect(production.process.instances == 2)
        #expect(production.process.env == ["LOG_LEVEL": "info", "WORKERS": "4"])
        #expect(production.health.interval == .milliseconds(500))
        #expect(production.health.deadline == .seconds(60))
        #expect(try cfg.environment(nil).name == "production")
        #expect(staging.router.forwardedHeaders && staging.router.requestIdHeader)  // the defaults
    }

    @Test func theRouterCanBeToldNotToAddHeaders() throws {
        let yaml = "app: shop\nprocess: { command: x }\nrouter: { listen: \"127.0.0.1:8100\", forwarded_headers: false, request_id_header: false }\n"
        let router = try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop").environment(nil).router
        #expect(!router.forwardedHeaders && !router.requestIdHeader)
    }

    @Test func aCanaryIsConfiguredStepByStep() throws {
        let yaml = """
            app: shop
            process: { command: x, instances: 3 }
            strategy: canary
            canary:
              instances: 1
              steps:
                - { weight: 5, pause: 2m }
                - { weight: 25 }
                - { pause: manual }
              sticky: { cookie: slipway-canary }
              max_step_duration: 10m
              retry_on_stable: true
            """
        let env = try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop").environment(nil)
        #expect(env.strategy == .canary)
        #expect(env.canary.steps == [CanaryStep(weight: 5, pause: .duration(.seconds(120))), CanaryStep(weight: 25), CanaryStep(pause: .manual)])
        #expect(env.canary.sticky == .cookie("slipway-canary") && env.canary.maxStepDuration == .seconds(600) && env.canary.retryOnStable)
        #expect(env.canary.weight(at: 2) == 25, "a step without a weight keeps the last one")
        #expect(env.canary.plan == "5% (2m) → 25% → 25% (manual) → 100%")
    }

    @Test func aContainerRuntimeMakesTheCommandOptional() throws {
        let env = try ConfigLoader.parse(yaml: "app: shop\nruntime: podman\nprocess: { instances: 2, memory_limit: 256MiB }\n",
                                         file: "/srv/shop/slipway.yml", directory: "/srv/shop").environment(nil)
        #expect(env.runtime == .podman && env.process.command.isEmpty && env.process.instances == 2 && env.process.memoryLimit == 256 << 20)
        let bare = try ConfigLoader.parse(yaml: "app: shop\nruntime: docker\n", file: "/srv/shop/slipway.yml", directory: "/srv/shop").environment(nil)
        #expect(bare.runtime == .docker && bare.process.instances == 1, "without process: at all, one instance of the image's own command")
        #expect(ReleaseImage.containerName(["shop", "production", "v1.2+build.7", "0"]) == "slipway-shop-production-v1.2_build.7-0")
    }

    @Test func processTypesAreTheWebTypeAndTheOthers() throws {
        let yaml = """
            app: shop
            processes:
              web: { command: "./shop serve --port $PORT", instances: 2 }
              worker: { command: "./shop work", instances: 3, stop_signal: TERM, stop_timeout: 60s, env: { QUEUE: default } }
              clock: { command: "./shop scheduler", singleton: true, stop_signal: sigint }
            environments:
              production: {}
              staging: { router: { listen: "127.0.0.1:8081" }, processes: { worker: { instances: 1 } } }
            """
        let cfg = try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop")
        let production = try cfg.environment("production"), staging = try cfg.environment("staging")
        #expect(production.process.command == "./shop serve --port $PORT" && production.process.instances == 2)
        #expect(production.processTypes.map(\.name) == ["clock", "worker"])
        let worker = try #require(production.processTypes.last), clock = try #require(production.processTypes.first)
        #expect(worker.process.instances == 3 && worker.process.stopTimeout == .seconds(60) && worker.stopSignal == .term && worker.process.env == ["QUEUE": "default"])
        #expect(clock.singleton && clock.stopSignal == .int && clock.process.instances == 1)
        #expect(staging.processTypes.first { $0.name == "worker" }?.process.instances == 1, "an environment's processes: merges over the top level's")
        #expect(staging.processSettings("worker")?.command == "./shop work" && staging.processSettings("web")?.instances == 2 && staging.processSettings("nope") == nil)
    }

    /// A corpus of bad configs, each with the location and message a user must see.
    static let badConfigs: [(yaml: String, expected: String)] = [
        ("process: { command: x }\n", "slipway.yml:1:1: app: missing required key"),
        ("app: Shop\nprocess: { command: x }\n", "slipway.yml:1:6: app: expected a name of a-z, 0-9 and '-', got 'Shop'"),
        ("app: shop\n", "slipway.yml:1:1: process: missing required key"),
        ("app: shop\nprocess: { instances: 2 }\n", "slipway.yml:2:10: process.command: missing required key"),
        ("app: shop\nprocess: { command: x, instances: two }\n", "slipway.yml:2:35: process.instances: expected an integer from 1 to 64, got 'two'"),
        ("app: shop\nprocess: { command: x, instances: 0 }\n", "process.instances: expected an integer from 1 to 64, got '0'"),
        ("app: shop\nprocess: { command: x }\nhealth: { interval: soon }\n", "slipway.yml:3:21: health.interval: expected a duration like 500ms, 10s, 5m or 1h (above zero), got 'soon'"),
        ("app: shop\nprocess: { command: x }\nhealth: { path: ready }\n", "health.path: expected a path starting with '/', got 'ready'"),
        ("app: shop\nprocess: { command: x }\nrouter: { listen: nowhere }\n", "slipway.yml:3:19: router.listen: expected HOST:PORT with a port from 1 to 65535, got 'nowhere'"),
        ("app: shop\nprocess: { command: x }\nstrategy: linear\n", "slipway.yml:3:11: strategy: expected one of: recreate, blue-green, rolling, canary; got 'linear'"),
        ("app: shop\nprocess: { command: x }\nanalysis: { providers: [{ prometheus: { url: \"ftp://p:9090\", query: up } , fail_if: \"value > 1\" }] }\n",
         "analysis.providers[0].prometheus.url: expected http://HOST:PORT/PATH or https://HOST/PATH, got 'ftp://p:9090'"),
        ("app: shop\nprocess: { command: x }\nanalysis: { providers: [{ prometheus: { url: \"http://p:9090\", query: up } }] }\n",
         "analysis.providers[0].fail_if: missing required key"),
        ("app: shop\nprocess: { command: x }\nanalysis: { providers: [{ web: { url: \"http://p/check\" }, fail_if: \"error_rate > 1%\" }] }\n",
         "analysis.providers[0].fail_if: 'error_rate > 1%': a provider's rule compares its value with a number"),
        ("app: shop\nprocess: { command: x, memory_limit: lots }\n", "slipway.yml:2:38: process.memory_limit: expected a size like 512MiB or 2GiB, got 'lots'"),
        ("app: shop\nprocess: { command: x, user: \"Shop Owner\" }\n", "slipway.yml:2:30: process.user: expected a user name like app or a number like 1001, got 'Shop Owner'"),
        ("app: shop\nprocess: { command: x, group: \"a:b\" }\n", "slipway.yml:2:31: process.group: expected a group name like app or a number like 1001, got 'a:b'"),
        ("app: shop\nprocess: { command: x, no_new_privileges: sometimes }\n", "slipway.yml:2:43: process.no_new_privileges: expected true or false, got 'sometimes'"),
        ("app: shop\nprocess: { command: x, limits: { nofile: 8 } }\n", "slipway.yml:2:42: process.limits.nofile: expected an integer from 16 to 4194304, got '8'"),
        ("app: shop\nprocess: { command: x, limits: { files: 1024 } }\n", "process.limits.files: unknown key"),
        ("app: shop\nprocess: { command: x }\naccessories: { redis: { health: { tcp: 6390 } } }\n", "slipway.yml:3:23: accessories.redis.command: missing required key"),
        ("app: shop\nprocess: { command: x }\naccessories: { nats: { image: \"nats:2.10\", command: nats-server } }\n", "slipway.yml:3:24: accessories.nats.image: expected one of command: (a program on this host) or image: (a container), not both"),
        ("app: shop\nprocess: { command: x }\naccessories: { nats: { command: nats-server, args: [-p, \"4223\"] } }\n", "accessories.nats.args: args: go with image:"),
        ("app: shop\nprocess: { command: x }\naccessories: { redis: { command: r, health: { tcp: 99999 } } }\n", "slipway.yml:3:52: accessories.redis.health.tcp: expected an integer from 1 to 65535, got '99999'"),
        ("app: shop\nprocess: { command: x }\naccessories: { Redis_1: { command: r } }\n", "slipway.yml:3:16: accessories.Redis_1: expected an accessory name of a-z, 0-9 and '-'"),
        ("app: shop\nprocess: { command: x }\naccessories: { redis: { command: r, health: { tcp: 6390 } } }\nenvironments: { production: {}, staging: { router: { listen: 127.0.0.1:9 } } }\n",
         "environments.staging.accessories.redis.health.tcp: port 6390 is production/redis's already"),
        ("app: shop\nruntime: kubernetes\n", "slipway.yml:2:10: runtime: expected one of: process, podman, docker; got 'kubernetes'"),
        ("app: shop\nruntime: podman\nprocess: { user: shop }\n", "slipway.yml:3:12: process.user: with runtime: podman the container runs as its image's user"),
        ("app: shop\nprocess: { command: x }\nprocesses: { web: { command: y } }\n", "slipway.yml:2:10: process: both process: and processes: are set; keep one"),
        ("app: shop\nprocesses: { worker: { command: w } }\n", "slipway.yml:2:12: processes.web: missing required type (web is the one the router serves"),
        ("app: shop\nprocesses: { web: { command: x }, worker: { instances: 2 } }\n", "slipway.yml:2:43: processes.worker.command: missing required key"),
        ("app: shop\nprocesses: { web: { command: x }, clock: { command: c, singleton: true, instances: 2 } }\n",
         "slipway.yml:2:84: processes.clock.instances: a singleton runs exactly one instance; got 2"),
        ("app: shop\nprocesses: { web: { command: x }, worker: { command: w, stop_signal: SIGSTOP } }\n",
         "slipway.yml:2:70: processes.worker.stop_signal: expected one of SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, got 'SIGSTOP'"),
        ("app: shop\nprocesses: { web: { command: x }, api: { command: a, route: { path: / } } }\n",
         "slipway.yml:2:69: processes.api.route.path: expected a path prefix like /api (not / itself: that is web's), got '/'"),
        ("app: shop\nprocesses: { web: { command: x }, api: { command: a, route: { strip_prefix: true } } }\n", "processes.api.route.path: missing required key"),
        ("app: shop\nprocesses: { web: { command: x }, clock: { command: c, singleton: true, route: { path: /tick } } }\n",
         "processes.clock.route: a routed type runs its new processes beside the old ones during a deploy; a singleton cannot be routed"),
        ("app: shop\nprocesses: { web: { command: x }, a: { command: a, route: { path: /api } }, b: { command: b, route: { path: /api } } }\n",
         "processes.b.route.path: /api is routed to a already"),
        ("app: shop\nprocesses: { web: { command: x }, api: { command: a, route: { path: /api } } }\nrouter: { listen_tls: \"127.0.0.1:8443\", hosts: [shop.example.com], tls: acme, acme: { email: ops@example.com } }\n",
         "processes.api.route: a routed process type over HTTPS (router.tls) is not in this version"),
        ("app: shop\nprocesses: { web: { command: x, singleton: true } }\n", "slipway.yml:2:33: processes.web.singleton: the web type is health-gated"),
        ("app: shop\nprocesses: { web: { command: x }, Worker_1: { command: w } }\n", "slipway.yml:2:35: processes.Worker_1: expected a process type name of a-z, 0-9 and '-'"),
        ("app: shop\nprocesses: { web: { command: x }, worker: { command: w, instances: 65 } }\n", "processes.worker.instances: expected an integer from 1 to 64, got '65'"),
        ("app: shop\nprocess: { command: x }\nrelease: { git: { repo: /tmp, poll: { branch: \"a b\" } } }\n",
         "slipway.yml:3:47: release.git.poll.branch: expected a branch name like main, got 'a b'"),
        ("app: shop\nprocess: { command: x }\nrelease: { git: { repo: /tmp, poll: { every: 1m, deploy_to: nowhere } } }\n",
         "release.git.poll.deploy_to: expected one of the environments (production), got 'nowhere'"),
        ("app: shop\nprocess: { command: x }\nrelease: { git: { repo: /tmp, poll: { every: 500ms } } }\n",
         "slipway.yml:3:46: release.git.poll.every: expected at least 1s, got '500ms'"),
        ("app: shop\nprocess: { command: x }\ncanary: { steps: [{ weight: 120 }] }\n", "slipway.yml:3:29: canary.steps[0].weight: expected an integer from 1 to 99, got '120'"),
        ("app: shop\nprocess: { command: x }\ncanary: { steps: [{ weight: 5, pause: soon }] }\n", "slipway.yml:3:39: canary.steps[0].pause: expected a duration like 2m, or manual; got 'soon'"),
        ("app: shop\nprocess: { command: x }\ncanary: { steps: [{ pause: 1m }] }\n", "canary.steps[0]: the first step needs a weight"),
        ("app: shop\nprocess: { command: x }\ncanary: { sticky: { cookie: a, header: b } }\n", "canary.sticky: expected one of { cookie: NAME } or { header: NAME }"),
        ("app: shop\nprocess: { command: x }\ncanary: { sticky: { header: \"X User\" } }\n", "canary.sticky.header: expected a header name"),
        ("app: shop\nprocess: { command: x }\ncolour: blue\n", "slipway.yml:3:1: colour: unknown key; expected one of:"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, sqlite: a.db }], stores: [{ local: b }], schedule: \"0 25 * * *\" }\n",
         "backup.schedule: cron hour field '25' is not valid"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, postgres: { url_secret: \"postgres://u:hunter2@h/db\" } }], stores: [{ local: b }] }\n",
         "backup.sources[0].postgres.url_secret: expected the NAME of a secret"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, sqlite: a.db, directory: d }], stores: [{ local: b }] }\n",
         "slipway.yml:3:21: backup.sources[0]: expected exactly one of sqlite, postgres, mysql or directory"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, sqlite: a.db }], stores: [{ local: b }], timezone: Mars/Olympus }\n",
         "backup.timezone: expected an IANA time zone like Europe/Berlin or UTC, got 'Mars/Olympus'"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, sqlite: a.db }], stores: [{ local: b }], retention: { keep_last: 0 } }\n",
         "backup.retention: keeps nothing"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, sqlite: a.db }], stores: [{ s3: { bucket: x } }] }\n",
         "backup.stores[0].s3.access_key_secret: missing required key"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, sqlite: a.db }], stores: [{ local: b }], encryption_key_secret: \"q8Jd0x/3kL0aZ+7rT1vW2yB4nC6mE9pH5sU0iO3lK2g=\" }\n",
         "backup.encryption_key_secret: expected the NAME of a secret"),
        ("app: shop\nprocess: { command: x }\nbackup: { sources: [{ name: db, sqlite: a.db }], stores: [{ local: b }], drill: { schedule: \"0 4 * *\" } }\n",
         "backup.drill.schedule: expected 5 cron fields"),
        ("app: shop\nprocess: { command: x }\nrouter: { response_timeout: soon }\n", "router.response_timeout: expected a duration"),
        ("app: shop\nprocess: { command: x }\nrouter: { forwarded_headers: sometimes }\n", "slipway.yml:3:30: router.forwarded_headers: expected true or false, got 'sometimes'"),
        ("app: shop\nprocess: { command: x }\nmigrate: { down: x }\n", "slipway.yml:3:10: migrate.up: missing required key"),
        ("app: shop\nprocess: { command: x, comand: y }\n", "slipway.yml:2:24: process.comand: unknown key; expected one of: command, instances, env, secrets, stop_timeout"),
        ("app: shop\nprocess: { command: x, secrets: [database-url] }\n", "process.secrets: expected environment variable names like DATABASE_URL, got 'database-url'"),
        ("app: shop\nprocess: { command: \"./x 'unterminated\" }\n", "process.command: expected a command line: unterminated quote"),
        ("app: shop\nprocess: { command: x }\nkeep_releases: 1\n", "keep_releases: expected an integer ≥ 2, got '1'"),
        ("app: shop\nprocess: { command: x }\nenvironments:\n  staging: { root: /tmp }\n", "slipway.yml:4:14: environments.staging.root: unknown key; expected one of: process, health, router, strategy, keep_warm"),
        ("app: shop\nprocess: { command: x }\nenvironments:\n  a: {}\n  b: {}\n", "environments.b.router.listen: 127.0.0.1:8080 is already used by environment 'a'"),
        ("app: shop\nprocess: { command: x }\nenvironments:\n  a: { router: { hosts: [shop.example.com] } }\n  b: { router: { hosts: [SHOP.example.com] } }\n",
         "slipway.yml:5:6: environments.b.router.hosts: host shop.example.com with path / on 127.0.0.1:8080 is claimed by environment 'a' too"),
        ("app: shop\nprocess: { command: x }\nrouter: { hosts: [\"shop.*.example.com\"] }\n",
         "slipway.yml:3:18: router.hosts: a wildcard is the whole leftmost label only (*.example.com), got 'shop.*.example.com'"),
        ("app: shop\nprocess: { command: x }\nrouter: { hosts: [\"*.com\"] }\n", "router.hosts: a wildcard covers one label of a domain with at least two labels"),
        ("app: shop\nprocess: { command: x }\nrouter: { path: api }\n", "slipway.yml:3:17: router.path: expected a path starting with '/', like /api; got 'api'"),
        ("app: shop\nprocess: { command: x }\nrouter: { hosts: [a.example.com], strip_prefix: true }\n", "router.strip_prefix: strip_prefix takes off router.path"),
        ("app: shop\nprocess: [x\n", "slipway.yml:3:1: invalid YAML"),
        ("", "slipway.yml: the file is empty"),
    ]

    @Test(arguments: badConfigs.indices)
    func badConfigIsRejectedWithLocatedMessage(_ index: Int) {
        let (yaml, expected) = Self.badConfigs[index]
        do {
            let cfg = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
            Issue.record("config \(index) was accepted: \(cfg.app)")
        } catch {
            #expect(error.description.contains(expected), "got:\n\(error.description)\nexpected to contain:\n\(expected)")
        }
    }

    /// Environments of one app share a listener, told apart by host and path.
    @Test func environmentsShareAnAddressByHostAndPath() throws {
        let yaml = """
            app: shop
            process: { command: x }
            router: { listen: 0.0.0.0:8080 }
            environments:
              staging: { router: { hosts: [staging.example.com, "*.Preview.example.com."] } }
              production: { router: { hosts: [shop.example.com] } }
              api: { router: { hosts: [shop.example.com], path: /api, strip_prefix: true } }
            """
        let cfg = try ConfigLoader.parse(yaml: yaml, file: "slipway.yml", directory: "/tmp")
        #expect(cfg.environments["staging"]?.router.route == RouteMatch(hosts: ["staging.example.com", "*.preview.example.com"]))
        #expect(cfg.environments["api"]?.router.route == RouteMatch(hosts: ["shop.example.com"], path: "/api", stripPrefix: true))
        #expect(Set(cfg.environments.values.map(\.router.listen)).count == 1)
        #expect(try ConfigLoader.parse(yaml: "app: shop\nprocess: { command: x }\n", file: "f", directory: "/tmp").environments["production"]?.router.route == nil)
    }

    @Test func everyProblemIsReportedAtOnce() {
        let yaml = "app: shop\nprocess: { command: x, instances: -1 }\nstrategy: linear\nbogus: 1\n"
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(yaml: yaml, file: "f.yml", directory: "/tmp") }
        do { _ = try ConfigLoader.parse(yaml: yaml, file: "f.yml", directory: "/tmp") } catch { #expect(error.problems.count == 3) }
    }

    @Test func durations() {
        #expect(DurationParsing.parse("250ms") == .milliseconds(250))
        #expect(DurationParsing.parse("10s") == .seconds(10))
        #expect(DurationParsing.parse("5m") == .seconds(300))
        #expect(DurationParsing.parse("1h30m") == .seconds(5400))
        #expect(DurationParsing.parse("10") == nil)
        #expect(ByteSize.parse("512MiB") == 536_870_912 && ByteSize.parse("2GB") == 2_000_000_000 && ByteSize.parse("12 parsecs") == nil)
        #expect(DurationParsing.parse("0") == .zero, "watch: 0 turns the watch off, as documented")
        #expect(DurationParsing.parse("s") == nil)
        #expect(DurationParsing.format(.seconds(90)) == "90s")
    }

    @Test func commandsSplitIntoArgvWithoutAShell() throws {
        #expect(try CommandLineSplitter.split("./shop serve --port $PORT", variables: ["PORT": "9001"]) == ["./shop", "serve", "--port", "9001"])
        #expect(try CommandLineSplitter.split("run 'a b' \"c $X\" d\\ e ${X}y", variables: ["X": "1"]) == ["run", "a b", "c 1", "d e", "1y"])
        #expect(try CommandLineSplitter.split("echo '$PORT; rm -rf /'", variables: ["PORT": "1"]) == ["echo", "$PORT; rm -rf /"])
        #expect(throws: SlipwayError.self) { try CommandLineSplitter.split("  ") }
    }

    @Test func releaseVersionsAreSafeNames() {
        for ok in ["v1", "1.2.3", "2026-11-23_1", "v1+build.5"] { #expect((try? ReleaseVersion.validate(ok)) != nil, "\(ok)") }
        for bad in ["", "..", "../x", "a/b", ".hidden", "-x", "v 1"] { #expect((try? ReleaseVersion.validate(bad)) == nil, "\(bad)") }
    }
}
