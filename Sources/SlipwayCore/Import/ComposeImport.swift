import Foundation
import Yams

/// `slipway import docker-compose.yml`: a `slipway.yml` made from a compose file. Services built or run from an
/// app's image become process types (the first with a published port is `web`, routed and health-gated; the
/// others run beside it), well-known data stores and brokers (Redis, NATS, PostgreSQL, Qdrant, …) become image
/// accessories, `environment`/`env_file` become secret names (values are never copied), `healthcheck` becomes
/// `health`, `deploy.replicas` `instances`, `deploy.resources.limits.memory` `memory_limit`, `stop_grace_period` and
/// `stop_signal` the type's own. Everything it cannot carry over is a note naming its file, line and key, and why.
public struct ComposeImport: Sendable {
    public struct Note: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int
        public var key: String
        public var message: String
        public var description: String { "\(file):\(line): \(key): \(message)" }
    }

    /// The `slipway.yml` text (it passes `slipway check`).
    public var yaml: String
    public var notes: [Note]

    /// Images whose services are accessories (matched on the image's last path component, before its tag), with the
    /// port each listens on by default.
    static let dataStores: [String: Int] = [
        "redis": 6379, "valkey": 6379, "keydb": 6379, "nats": 4222, "postgres": 5432, "postgis": 5432, "timescaledb": 5432, "timescaledb-ha": 5432,
        "mysql": 3306, "mariadb": 3306, "mongo": 27017, "rabbitmq": 5672, "qdrant": 6333, "memcached": 11211, "elasticsearch": 9200,
        "opensearch": 9200, "minio": 9000, "kafka": 9092, "zookeeper": 2181, "clickhouse-server": 8123, "clickhouse": 8123,
        "meilisearch": 7700, "weaviate": 8080, "milvus": 19530, "chroma": 8000, "etcd": 2379, "influxdb": 8086, "typesense": 8108,
    ]

    /// Why a compose key has no place in `slipway.yml`.
    static let unmapped: [String: String] = [
        "restart": "Slipway restarts whatever exits, with a back-off; there is nothing to choose",
        "depends_on": "accessories run before any deploy and are never touched by one; process types start together",
        "networks": "everything runs on the host network: services reach each other and the accessories on 127.0.0.1",
        "container_name": "Slipway names containers slipway-<app>-<env>-<release>-<slot>",
        "labels": "Slipway labels its containers itself (slipway.app, slipway.environment, slipway.release, slipway.instance)",
        "logging": "each process's output goes to <root>/logs; slipway logs --app --type TYPE reads it",
        "expose": "nothing is exposed: only web is routed, on router.listen",
        "links": "services reach each other on 127.0.0.1 (host network)",
        "profiles": "every service becomes part of the app",
        "secrets": "give the value to the daemon: secrets/<env>.env or its environment; the names are in secrets:",
        "configs": "put the file in the image or in shared/<env>/ (SLIPWAY_SHARED)",
        "entrypoint": "not carried over: set the image's ENTRYPOINT, or give the whole command in command:",
        "user": "the container runs as its image's USER",
        "working_dir": "the container starts in its image's WORKDIR",
        "cap_add": "not carried over: Slipway starts containers without extra capabilities",
        "privileged": "not carried over: Slipway never starts a privileged container",
        "extra_hosts": "not carried over", "dns": "not carried over", "ulimits": "not carried over", "tmpfs": "not carried over",
        "platform": "the runtime's own platform is used", "pull_policy": "a release pins the image's id once, at slipway release create",
        "init": "Slipway always runs an init as PID 1 (--init)",
        "network_mode": "everything runs on the host network",
    ]

    public static func convert(yaml text: String, file: String, environment: String = "production", app given: String? = nil) throws(SlipwayError) -> ComposeImport {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw SlipwayError(.usage, "\(file) is empty") }
            root = node
        } catch let e as SlipwayError { throw e } catch {
            throw SlipwayError(.usage, "\(file) is not YAML: \(error)")
        }
        var builder = ComposeImportBuilder(file: file, environment: environment)
        try builder.read(root, app: given)
        return ComposeImport(yaml: builder.render(), notes: builder.notes)
    }
}
