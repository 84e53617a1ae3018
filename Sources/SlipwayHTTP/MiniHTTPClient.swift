import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A small HTTP/1.1 client for the control plane: the CLI talking to the daemon over its unix socket,
/// health probes, the daemon driving the router. One request per connection; bodies are small.
public struct MiniHTTPClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var reason: String
        public var headers: [(String, String)]
        public var body: [UInt8]

        public var bodyText: String { String(decoding: body, as: UTF8.self) }

        public init(status: Int, reason: String, headers: [(String, String)], body: [UInt8]) {
            self.status = status
            self.reason = reason
            self.headers = headers
            self.body = body
        }
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    let group: any EventLoopGroup
    /// HTTPS for TCP endpoints: the server's certificate is verified against these trust roots, and its name
    /// (or IP address) against the host connected to.
    let tls: NIOSSLContext?

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tls: NIOSSLContext? = nil) {
        self.group = group
        self.tls = tls
    }

    /// A TLS client context trusting the PEM certificates in `caFile`, or the system's roots when nil.
    public static func tlsContext(caFile: String?) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
        return try NIOSSLContext(configuration: configuration)
    }

    public func request(
        _ method: String, _ endpoint: HTTPEndpoint, path: String, headers: [(String, String)] = [],
        body: [UInt8]? = nil, timeout: Duration = .seconds(30), serverName named: String? = nil
    ) async throws -> Response {
        let nanos = max(Int64(1_000_000), timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let bootstrap = ClientBootstrap(group: group).connectTimeout(.nanoseconds(nanos))
        // nil: plain HTTP. Otherwise TLS, with SNI for a name; an address literal is checked against the peer's IP.
        var serverName: String?? = nil
        if tls != nil, case .tcp(let host, _) = endpoint { serverName = .some(Self.isAddressLiteral(host) ? nil : host) }
        // A name to ask for (SNI, and the Host header) other than the address connected to.
        if let name = named, tls != nil { serverName = .some(name) }
        let tls = self.tls, sni = serverName
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls, case .some(let name) = sni {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                }
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
            }
        }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        let hostHeader: String
        do {
            switch endpoint {
            case .tcp(let host, let port):
                // An address needs no resolver: skip getaddrinfo and Happy Eyeballs (a health probe runs every second per instance).
                if Self.isAddressLiteral(host), let address = try? SocketAddress(ipAddress: host, port: port) {
                    channel = try await bootstrap.connect(to: address, channelInitializer: initializer)
                } else {
                    channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
                }
                hostHeader = "\(named ?? host):\(port)"
            case .unix(let path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
                hostHeader = "localhost"
            }
        } catch {
            throw Failure(description: "cannot connect to \(endpoint): \(Self.describe(error))")
        }
        return try await exchange(channel, description: "\(endpoint)", hostHeader: hostHeader, method: method, path: path, headers: headers,
                                  body: body, timeout: timeout, nanos: nanos)
    }

    /// The same request over a pair of pipes: `input` is read for the response, `output` written with the request
    /// (a child's stdout and stdin: `ssh HOST slipway server dial-stdio`). Both descriptors are closed after.
    public func request(_ method: String, pipe input: CInt, _ output: CInt, describedAs description: String, path: String,
                        headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Duration = .seconds(30)) async throws -> Response {
        let nanos = max(Int64(1_000_000), timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do { channel = try await Self.pipeChannel(group: group, input: input, output: output, describedAs: description) } catch {
            close(input)
            close(output)
            throw error
        }
        return try await exchange(channel, description: description, hostHeader: "localhost", method: method, path: path, headers: headers,
                                  body: body, timeout: timeout, nanos: nanos)
    }

    /// An HTTP/1.1 client channel over `input` (read) and `output` (written), which it takes ownership of.
    static func pipeChannel(group: any EventLoopGroup, input: CInt, output: CInt, describedAs description: String) async throws
        -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        do {
            return try await NIOPipeBootstrap(group: group).takingOwnershipOfDescriptors(input: input, output: output) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            throw Failure(description: "cannot talk to \(description): \(describe(error))")
        }
    }

    private func exchange(_ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, description endpoint: String, hostHeader: String,
                          method: String, path: String, headers: [(String, String)], body: [UInt8]?, timeout: Duration, nanos: Int64) async throws -> Response {
        let deadline = channel.channel.eventLoop.scheduleTask(in: .nanoseconds(nanos)) {
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: hostHeader)
            head.headers.add(name: "Connection", value: "close")
            for (k, v) in headers { head.headers.add(name: k, value: v) }
            if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
            else if method != "GET" && method != "HEAD" { head.headers.add(name: "Content-Length", value: "0") }
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            // A server may answer and close as soon as it has the head; the response is still in the
            // inbound buffer, so a failed write only matters if no complete response arrives.
            var writeError: (any Error)?
            do { try await outbound.write(contentsOf: parts) } catch { writeError = error }

            var response: Response?
            do {
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        response = Response(status: Int(h.status.code), reason: h.status.reasonPhrase,
                                            headers: h.headers.map { ($0.name, $0.value) }, body: [])
                    case .body(var buffer):
                        response?.body += buffer.readBytes(length: buffer.readableBytes) ?? []
                    case .end:
                        if let response { return response }
                    }
                }
            } catch {
                throw Failure(description: "\(endpoint) \(path): \(Self.describe(writeError ?? error))")
            }
            if let writeError { throw Failure(description: "\(endpoint) \(path): cannot send the request: \(Self.describe(writeError))") }
            throw Failure(description: "\(endpoint) \(path): the connection closed before a complete response (timeout \(timeout))")
        }
    }

    static func isAddressLiteral(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? NIOSSLError { return "TLS: \(e)" }
        if let e = error as? BoringSSLError { return "TLS: \(e)" }
        if let e = error as? IOError { return e.description }
        if error is ChannelError { return "connection closed (\(error))" }
        return "\(error)"
    }
}
