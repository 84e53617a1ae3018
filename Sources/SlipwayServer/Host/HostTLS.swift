import Crypto
import Foundation
import Hummingbird
import SlipwayCore

/// `slipway server --host-only --listen-tls HOST:PORT --cert FILE --key FILE --token-file FILE`: the host API over
/// HTTPS as well, for a controller that lists the host as `https://HOST:PORT` (no ssh). Every request carries
/// `Authorization: Bearer TOKEN`, the token in the file (0600, one line); only its SHA-256 is kept in memory, and a
/// presented token is compared with it in constant time.
public struct HostTLS: Sendable {
    public var address: ListenAddress
    public var files: TLSFiles
    let tokenDigest: [UInt8]

    public init(address: ListenAddress, files: TLSFiles, tokenFile: String) throws(SlipwayError) {
        guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw .usage("--token-file: cannot read \(tokenFile); expected a file holding the token controllers present")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 16 else { throw .usage("--token-file: the token in \(tokenFile) is shorter than 16 characters; make a long random one") }
        self.address = address
        self.files = files
        tokenDigest = Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// Whether `header` (the request's `Authorization`) carries the token.
    func admits(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        let presented = Array(SHA256.hash(data: Data(header.dropFirst("Bearer ".count).utf8)))
        // Constant time: every byte is looked at whatever the first difference.
        return zip(presented, tokenDigest).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Refuses a request over the host's HTTPS listener that does not carry its token (403, naming no detail).
struct HostTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let tls: HostTLS

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard tls.admits(request.headers[.authorization]) else {
            throw Forbidden(message: "this host's API needs its token: Authorization: Bearer TOKEN (https_hosts.token_secret on the controller)")
        }
        return try await next(request, context)
    }
}
