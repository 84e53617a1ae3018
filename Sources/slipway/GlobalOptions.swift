import ArgumentParser
import Foundation
import SlipwayClient
import SlipwayCore

struct GlobalOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Path to slipway.yml (default: $SLIPWAY_CONFIG or ./slipway.yml)")
    var config: String?

    var configPath: String {
        let path = config ?? ProcessInfo.processInfo.environment["SLIPWAY_CONFIG"] ?? "slipway.yml"
        return path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// The validated config; problems are printed and become exit 2.
    /// - Parameter root: the state directory instead of the file's `root` (`slipway server --root`).
    func load(root: String? = nil) throws(SlipwayError) -> SlipwayConfig {
        do { return try ConfigLoader.load(path: configPath, root: root) } catch { throw error.slipwayError }
    }

    @Option(help: "An API token (default: $SLIPWAY_TOKEN); without one, the admin socket's OS user acts as admin")
    var token: String?

    @Option(help: "A daemon's TCP listener, like https://host:7443 (default: $SLIPWAY_SERVER; else the admin socket); needs a token")
    var server: String?

    @Option(help: "PEM file of the certificate authority that signed the daemon's certificate, for an https --server (default: $SLIPWAY_CA; else the system's)")
    var ca: String?

    /// `--server`, else `$SLIPWAY_SERVER` (nil: the admin socket of the config's root).
    var serverAddress: String? {
        (server ?? ProcessInfo.processInfo.environment["SLIPWAY_SERVER"]).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The daemon this command talks to: `--server` (no config file needed: a CI job need not have the
    /// daemon's), else the admin socket of the config's root.
    func client() throws(SlipwayError) -> DaemonClient {
        let token = token ?? ProcessInfo.processInfo.environment["SLIPWAY_TOKEN"]
        if let server = serverAddress {
            let ca = ca ?? ProcessInfo.processInfo.environment["SLIPWAY_CA"].flatMap { $0.isEmpty ? nil : $0 }
            return try DaemonClient(server: server, token: token, caFile: ca)
        }
        return DaemonClient(socket: try load().socketPath, token: token)
    }
}

struct EnvOption: ParsableArguments {
    @Option(name: .long, help: "Environment (default: the only one, or production)")
    var env: String?
}

enum Output {
    /// `value` as JSON; a value that cannot be encoded ends the command (exit 1) instead of printing nothing.
    static func line<T: Encodable>(_ value: T, pretty: Bool = false) -> String {
        do { return String(decoding: try SlipwayJSON.encoder(pretty: pretty).encode(value), as: UTF8.self) } catch {
            FileHandle.standardError.write(Data("error: cannot encode the answer as JSON (\(error))\n".utf8))
            exit(1)
        }
    }

    static func json<T: Encodable>(_ value: T) {
        print(line(value, pretty: true))
    }

    /// Left-aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        for row in all {
            print(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date) + "Z"
    }

    /// "2d 3h", "4h 12m", "3m 20s", "45s".
    static func age(_ seconds: Int) -> String {
        let d = seconds / 86_400, h = seconds % 86_400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        func pair(_ a: Int, _ au: String, _ b: Int, _ bu: String) -> String { b == 0 ? "\(a)\(au)" : "\(a)\(au) \(b)\(bu)" }
        if d > 0 { return pair(d, "d", h, "h") }
        if h > 0 { return pair(h, "h", m, "m") }
        return m > 0 ? pair(m, "m", s, "s") : "\(s)s"
    }

    static func clock(_ date: Date) -> String {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss.SSS"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}

extension Output {
    static func firstLine(_ text: String?) -> String? {
        guard let text, let first = text.split(separator: "\n").first else { return nil }
        return String(first)
    }
}
