import Foundation
@testable import SlipwayCore
import Testing

/// `slipway import`: compose files shaped like our users' become configs that `check` accepts, with every key
/// that has no place named by file, line and why.
struct ComposeImportTests {
    static let goAPI = """
        version: "3.8"
        services:
          api:
            build: .
            image: registry.example/fleet-api:1.4.0
            command: ["/app/api", "--listen", ":8080"]
            ports: ["8080:8080"]
            environment:
              - DATABASE_URL=postgres://fleet:hunter2@127.0.0.1:5432/fleet
              - NATS_URL=nats://127.0.0.1:4222
              - LOG_LEVEL=info
            healthcheck:
              test: ["CMD", "curl", "-f", "http://localhost:8080/healthz"]
              interval: 10s
              timeout: 5s
              retries: 3
            deploy:
              replicas: 2
              resources: { limits: { memory: 512M, cpus: "1.5" } }
            restart: unless-stopped
            depends_on: [db, nats, redis]
          db:
            image: timescale/timescaledb:2.13.0-pg15
            environment: { POSTGRES_PASSWORD: hunter2, POSTGRES_DB: fleet }
            volumes: ["db-data:/var/lib/postgresql/data"]
            ports: ["5432:5432"]
          nats:
            image: nats:2.10
            command: ["-js", "-p", "4222"]
          redis:
            image: redis:7-alpine
            command: redis-server --appendonly yes
        volumes:
          db-data: {}
        """

    @Test func aGoAPIWithTimescaleNATSAndRedis() throws {
        let made = try ComposeImport.convert(yaml: Self.goAPI, file: "/srv/fleet/docker-compose.prod.yml")
        let cfg = try ConfigLoader.parse(yaml: made.yaml, file: "/srv/fleet/slipway.yml", directory: "/srv/fleet")
        let env = try cfg.environment("production")
        #expect(cfg.app == "fleet" && env.runtime == .podman)
        #expect(env.process.command == "/app/api --listen :8080" && env.process.instances == 2 && env.process.memoryLimit == 512 << 20)
        #expect(env.process.secrets == ["DATABASE_URL", "NATS_URL", "LOG_LEVEL"], "names only")
        #expect(!made.yaml.contains("hunter2"), "no value is copied:\n\(made.yaml)")
        #expect(env.health.path == "/healthz" && env.health.interval == .seconds(10) && env.health.timeout == .seconds(5) && env.health.unhealthyThreshold == 3)
        #expect(env.router.listen == ListenAddress(host: "0.0.0.0", port: 8080))
        #expect(env.accessories.map(\.name) == ["db", "nats", "redis"])
        #expect(env.accessories.first { $0.name == "db" }?.image == "timescale/timescaledb:2.13.0-pg15" && env.accessories.first { $0.name == "db" }?.tcpPort == 5432)
        #expect(env.accessories.first { $0.name == "nats" }?.args == ["-js", "-p", "4222"] && env.accessories.first { $0.name == "nats" }?.tcpPort == 4222)
        #expect(env.accessories.first { $0.name == "redis" }?.args == ["redis-server", "--appendonly", "yes"])
        let notes = made.notes.map(\.description)
        for expected in ["docker-compose.prod.yml:1: version: obsolete", "docker-compose.prod.yml:3: services.api: this service is the web type",
                         "docker-compose.prod.yml:4: services.api.build: Slipway runs images it was given",
                         "docker-compose.prod.yml:20: services.api.restart: Slipway restarts whatever exits",
                         "docker-compose.prod.yml:19: services.api.deploy.resources.limits.cpus: only the memory limit",
                         "docker-compose.prod.yml:21: services.api.depends_on:", "docker-compose.prod.yml:24: services.db.environment: an accessory's variables are not copied",
                         "docker-compose.prod.yml:25: services.db.volumes: the accessory's data", "docker-compose.prod.yml:33: volumes: named volumes",
                         "docker-compose.prod.yml:7: services.api.ports: published as router.listen 0.0.0.0:8080"] {
            #expect(notes.contains { $0.hasPrefix("/srv/fleet/" + expected) }, "\(expected) in \(notes)")
        }
        #expect(made.notes.map(\.line) == made.notes.map(\.line).sorted(), "in the file's order")
    }

    static let pythonAPI = """
        name: papers
        services:
          api:
            image: ghcr.io/example/papers:2.3
            command: uvicorn papers.main:app --host 0.0.0.0 --port 8000
            ports: ["127.0.0.1:8000:8000"]
            env_file: .env.example
            healthcheck:
              test: curl --fail http://127.0.0.1:8000/health || exit 1
          worker:
            image: ghcr.io/example/papers:2.3
            command: ["celery", "-A", "papers.tasks", "worker", "--loglevel=info"]
            env_file: [.env.example]
            deploy: { replicas: 3 }
            stop_grace_period: 1m
            stop_signal: SIGTERM
          qdrant:
            image: qdrant/qdrant:v1.7.4
            ports: ["6333:6333"]
            volumes: ["./qdrant:/qdrant/storage"]
        """

    @Test func aPythonAPIWithAWorkerAndQdrant() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compose-\(UUID().uuidString.prefix(6))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "# copy to .env\nOPENAI_API_KEY=sk-not-real\nexport QDRANT_URL=http://127.0.0.1:6333\nlowercase=x\n".write(toFile: dir + "/.env.example", atomically: true, encoding: .utf8)
        let made = try ComposeImport.convert(yaml: Self.pythonAPI, file: dir + "/compose.yaml")
        let env = try ConfigLoader.parse(yaml: made.yaml, file: dir + "/slipway.yml", directory: dir).environment(nil)
        #expect(made.yaml.contains("app: papers") && !made.yaml.contains("sk-not-real"), "\(made.yaml)")
        #expect(env.process.command == "uvicorn papers.main:app --host 0.0.0.0 --port 8000" && env.process.secrets == ["OPENAI_API_KEY", "QDRANT_URL"])
        #expect(env.health.path == "/health" && env.router.listen.port == 8000)
        let worker = try #require(env.processTypes.first { $0.name == "worker" })
        #expect(worker.process.command == "celery -A papers.tasks worker --loglevel=info" && worker.process.instances == 3
                && worker.process.stopTimeout == .seconds(60) && worker.stopSignal == .term && worker.process.secrets == ["OPENAI_API_KEY", "QDRANT_URL"])
        #expect(env.accessories.map(\.name) == ["qdrant"] && env.accessories.first?.tcpPort == 6333)
        #expect(made.notes.contains { $0.description.hasSuffix("compose.yaml:7: services.api.env_file: not passed on: lowercase (Slipway passes UPPER_CASE names)") }, "\(made.notes)")
    }

    static let frontendBackend = """
        services:
          frontend:
            image: example/shop-web:3.1
            ports: ["80:3000"]
            depends_on: [backend]
          backend:
            image: example/shop-api:3.1
            ports: ["8081:8080"]
            environment: { JWT_SECRET: change-me }
            healthcheck: { test: ["CMD", "wget", "-qO-", "http://localhost:8080/api/health"] }
        """

    @Test func aFrontendAndBackendPair() throws {
        let made = try ComposeImport.convert(yaml: Self.frontendBackend, file: "/srv/shop/docker-compose.yml", app: "shop")
        let env = try ConfigLoader.parse(yaml: made.yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop").environment(nil)
        #expect(env.process.command.isEmpty && env.router.listen.port == 80, "the image's own command; routed where the frontend was published")
        #expect(env.processTypes.map(\.name) == ["backend"] && env.processTypes.first?.process.secrets == ["JWT_SECRET"])
        let notes = made.notes.map(\.description)
        #expect(notes.contains { $0.hasPrefix("/srv/shop/docker-compose.yml:8: services.backend.ports: compose routes by port, Slipway by path") }, "\(notes)")
        #expect(notes.contains { $0.hasPrefix("/srv/shop/docker-compose.yml:10: services.backend.healthcheck: health checks of unrouted types") }, "\(notes)")
    }

    @Test func whatIsNotAComposeFileIsAUsageError() throws {
        #expect(throws: SlipwayError.self) { try ComposeImport.convert(yaml: "- a\n- b\n", file: "x.yml") }
        #expect(throws: SlipwayError.self) { try ComposeImport.convert(yaml: "services:\n  db: { image: postgres:15 }\n", file: "x.yml") }
        #expect(ComposeImportBuilder.imageName("registry.example:5000/library/redis:7-alpine") == "redis")
        #expect(ComposeImportBuilder.quote("it's here") == #"'it'\''s here'"# && ComposeImportBuilder.quote("--port=8080") == "--port=8080")
        let awkward = "a \"quoted\" \\path/x\nnext\tline\u{1}é"
        let yaml = "app: shop\nprocess: { command: x, env: { K: \(ComposeImportBuilder.string(awkward)) } }\n"
        #expect(try ConfigLoader.parse(yaml: yaml, file: "/srv/shop/slipway.yml", directory: "/srv/shop").environment(nil).process.env["K"] == awkward,
                "a YAML string reads back as it was")
    }
}
