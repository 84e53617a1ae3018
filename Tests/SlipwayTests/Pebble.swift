import Foundation
import SlipwayHTTP
import SlipwayRuntime
import Testing

/// Debian's `pebble` (an RFC 8555 test CA) and `pebble-challtestsrv` (its DNS, answering 127.0.0.1 for every
/// name), started for one test with the CA's HTTP-01 and TLS-ALPN-01 ports pointed at the router's.
struct Pebble {
    static let binary = "/usr/bin/pebble"
    static let challtestsrv = "/usr/bin/pebble-challtestsrv"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: binary) && FileManager.default.isExecutableFile(atPath: challtestsrv) }
    static var canRun: Bool { installed || TestServices.required }
    static let skipNote = "needs Debian's pebble (scripts/test.sh installs it)"

    /// The directory URL.
    let directory: String
    /// The PEM of pebble's own API certificate (`router.acme.ca`).
    let apiCA: String
    let managementPort: Int
    let dir: String
    let pids: [Int32]

    /// `validity`: seconds each issued certificate is valid (short ones to watch a renewal).
    /// `address`: what every name resolves to (where the CA connects to validate; a fleet host's, say).
    static func start(httpPort: Int, tlsPort: Int, validity: Int? = nil, address: String = "127.0.0.1", in dir: String) async throws -> Pebble {
        let api = try TestCertificates(in: dir, name: "pebble-api", hosts: ["localhost"])
        let port = try PortAllocator.freePort(), management = try PortAllocator.freePort(), dns = try PortAllocator.freePort()
        var config = """
            {"pebble": {"listenAddress": "127.0.0.1:\(port)", "managementListenAddress": "127.0.0.1:\(management)",
              "certificate": "\(api.certFile)", "privateKey": "\(api.keyFile)", "httpPort": \(httpPort), "tlsPort": \(tlsPort),
              "ocspResponderURL": "", "externalAccountBindingRequired": false
            """
        if let validity { config += ", \"certificateValidityPeriod\": \(validity)" }
        config += "}}"
        try config.write(toFile: dir + "/pebble.json", atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        // No random waits before validating, and no nonces refused at random (the client's retry is unit-tested).
        env["PEBBLE_VA_NOSLEEP"] = "1"
        env["PEBBLE_WFE_NONCEREJECT"] = "0"
        let dnsServer = try ProcessSpawner.spawn(argv: [challtestsrv, "-defaultIPv4", address, "-defaultIPv6", "", "-dns01", "127.0.0.1:\(dns)",
                                                        "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", "127.0.0.1:\(try PortAllocator.freePort())"],
                                                 directory: dir, environment: env, logFile: dir + "/challtestsrv.log")
        let ca = try ProcessSpawner.spawn(argv: [binary, "-config", dir + "/pebble.json", "-dnsserver", "127.0.0.1:\(dns)"],
                                          directory: dir, environment: env, logFile: dir + "/pebble.log")
        let pebble = Pebble(directory: "https://127.0.0.1:\(port)/dir", apiCA: api.caFile, managementPort: management, dir: dir, pids: [ca.pid, dnsServer.pid])
        let client = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: api.caFile))
        do {
            _ = try await poll(within: .seconds(20), every: .milliseconds(100)) { () async -> Bool? in
                (try? await client.request("GET", .tcp(host: "127.0.0.1", port: port), path: "/dir", timeout: .seconds(2)))?.status == 200 ? true : nil
            }
        } catch {
            await pebble.stop()
            throw Failure("pebble did not answer: \((try? String(contentsOfFile: dir + "/pebble.log", encoding: .utf8)) ?? "")")
        }
        return pebble
    }

    /// The root the issued certificates chain to (pebble makes a new one at every start).
    func rootFile() async throws -> String {
        let client = MiniHTTPClient(tls: try MiniHTTPClient.tlsContext(caFile: apiCA))
        let r = try await client.request("GET", .tcp(host: "127.0.0.1", port: managementPort), path: "/roots/0")
        let file = dir + "/pebble-root.pem"
        try r.bodyText.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func log() -> String { (try? String(contentsOfFile: dir + "/pebble.log", encoding: .utf8)) ?? "" }

    func stop() async {
        for pid in pids {
            kill(pid, SIGTERM)
            if await ProcessSpawner.wait(pid, timeout: .seconds(5)) == nil {
                kill(pid, SIGKILL)
                _ = await ProcessSpawner.wait(pid)
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
