import Foundation

/// `slipway init`: a commented slipway.yml for the project in a directory, guessed from the files it holds (a Swift
/// package, a Go module, a Cargo crate, a Node package), that `slipway check` accepts as it is.
public enum InitTemplate {
    public enum Kind: String, Sendable, CaseIterable {
        case swift, go, rust, node, other

        /// What the directory's files say it is.
        public static func detect(in directory: String) -> Kind {
            let fm = FileManager.default
            if fm.fileExists(atPath: directory + "/Package.swift") { return .swift }
            if fm.fileExists(atPath: directory + "/go.mod") { return .go }
            if fm.fileExists(atPath: directory + "/Cargo.toml") { return .rust }
            if fm.fileExists(atPath: directory + "/package.json") { return .node }
            return .other
        }
    }

    /// An app name from a directory name: lower case, a-z, 0-9 and '-'.
    public static func appName(_ directory: String) -> String {
        let base = (directory as NSString).lastPathComponent.lowercased()
        let cleaned = String(base.map { $0.isLetter && $0.isASCII || $0.isNumber ? $0 : "-" }).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return cleaned.isEmpty ? "app" : cleaned
    }

    /// The file's text for an app of `kind` named `app`.
    public static func render(kind: Kind, app: String) -> String {
        let (build, files, command): (String?, String, String) = switch kind {
        case .swift: ("swift build -c release --product \(app)", "[\".build/release/\(app)\"]", "./\(app) --port $PORT")
        case .go: ("go build -o \(app) .", "[\"\(app)\"]", "./\(app) --port $PORT")
        case .rust: ("cargo build --release", "[\"target/release/\(app)\"]", "./\(app) --port $PORT")
        case .node: (nil, "[\"package.json\", \"node_modules\", \"src\"]", "node src/index.js --port $PORT")
        case .other: (nil, "[\"\(app)\"]", "./\(app) --port $PORT")
        }
        return """
            # slipway.yml for \(app), written by `slipway init` (\(kind == .other ? "no build system recognised" : "a \(kind.rawValue) project")).
            # Check it with `slipway check`; the README's "slipway.yml reference" has every key.
            app: \(app)

            release:
            \(build.map { "  build: \"\($0)\"          # run in this directory; argv, no shell" } ?? "  # build: \"make release\"        # optional; run in this directory; argv, no shell")
              files: \(files)   # copied into releases/<version>/

            process:
              command: "\(command)"   # run in releases/<version>/; $PORT is the instance's port
              instances: 2
              stop_timeout: 10s
              # secrets: [DATABASE_URL]       # names; values in <root>/secrets/<env>.env or the daemon's environment
              # user: \(app)                     # run as this user (the daemon must be root)
              # limits: { nofile: 65536 }

            health:
              path: /health/ready              # 2xx = ready; a new release not ready within the deadline is refused
              deadline: 60s

            router:
              listen: 127.0.0.1:8080           # where users' requests come in
              # listen_tls: 0.0.0.0:443        # HTTPS, with:
              # tls: acme
              # acme: { email: ops@example.com }
              # hosts: [\(app).example.com]

            strategy: blue-green                # recreate | blue-green | rolling | canary

            # backup:
            #   sources: [{ name: db, sqlite: shared/app.db }]
            #   stores: [{ local: /var/backups/\(app) }]
            #   before_deploy: true
            #   schedule: "0 2 * * *"

            # accessories:
            #   redis: { command: "redis-server --port 6390 --dir $SLIPWAY_SHARED", health: { tcp: 6390 } }

            # environments:
            #   production: {}
            #   staging:
            #     router: { listen: 127.0.0.1:8081 }

            """
    }
}
