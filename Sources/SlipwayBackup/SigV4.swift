import SlipwayCore
import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests (header-based, payload hash signed).
public struct SigV4: Sendable {
    public var accessKey: String
    public var secretKey: String
    public var region: String
    public var service = "s3"

    public init(accessKey: String, secretKey: String, region: String) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.region = region
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX (slashes too unless `keepSlash`).
    public static func encode(_ s: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in s.utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-_.~".contains(c)) || (keepSlash && c == "/") { out.append(c) }
            else { out += String(format: "%%%02X", byte) }
        }
        return out
    }

    /// The canonical query string: parameters sorted, names and values encoded.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        let pairs: [(String, String)] = query.map { (encode($0.0), encode($0.1)) }
        let sorted = pairs.sorted { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        return sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The headers to add: Authorization, x-amz-date, x-amz-content-sha256 (and Host is signed as given).
    public func sign(method: String, host: String, path: String, query: [(String, String)], payloadHash: String,
                     date: Date = Date()) -> [(String, String)] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = f.string(from: date)
        let day = String(amzDate.prefix(8))
        let headers = [("host", host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", amzDate)]
        let signedHeaders = headers.map(\.0).joined(separator: ";")
        let canonical = [method, path, Self.canonicalQuery(query), headers.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders, payloadHash]
            .joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", amzDate, scope, Hex.string(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Hex.string(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
        return [
            ("Authorization", "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"),
            ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash),
        ]
    }

    public static func sha256Hex(_ data: some DataProtocol) -> String { Hex.string(SHA256.hash(data: data)) }
}
