import Foundation

/// `accessories.NAME`: a long-lived service the app needs (Redis, NATS), per environment, started once and left
/// alone by deploys; changed only by `slipway accessory start|stop|restart`.
public struct AccessorySettings: Sendable, Equatable {
    public var name: String
    /// Split into argv with `$SLIPWAY_SHARED`, `$SLIPWAY_ENV` and `env:` expanded; run in `shared/<env>/`.
    public var command: String
    /// `image:` (with `args:`): run as a container by the environment's `runtime` (podman when it is `process`).
    public var image: String?
    public var args: [String] = []
    public var runtime = ContainerRuntime.podman
    public var env: [String: String] = [:]
    /// `health: { tcp: PORT }`: ready while 127.0.0.1:PORT accepts a connection.
    public var tcpPort: Int?
    public var stopTimeout: Duration = .seconds(10)
    public var privileges = ProcessPrivileges()

    public init(name: String, command: String) {
        self.name = name
        self.command = command
    }

    /// What a running accessory was started with, to tell a changed config (drift) from the running one.
    public var fingerprint: String {
        var lines = ["command \(command)", "stop_timeout \(DurationParsing.format(stopTimeout))"]
        if let image { lines.append("image \(image) args \(args.joined(separator: " ")) runtime \(runtime.rawValue)") }
        lines += env.keys.sorted().map { "env \($0)=\(env[$0] ?? "")" }
        if let tcpPort { lines.append("tcp \(tcpPort)") }
        let p = privileges
        lines.append("user \(p.user ?? "-") group \(p.group ?? "-") nnp \(p.noNewPrivileges) nofile \(p.nofile.map(String.init) ?? "-") nproc \(p.nproc.map(String.init) ?? "-")")
        return lines.joined(separator: "\n")
    }
}
