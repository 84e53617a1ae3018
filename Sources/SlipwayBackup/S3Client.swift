import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SlipwayCore

/// The few S3 calls backups need, signed with SigV4, over AsyncHTTPClient (TLS for real endpoints),
/// retried with exponential backoff on connection errors, 5xx and 429.
public struct S3Client: Sendable {
    public let config: S3StoreConfig
    let signer: SigV4
    let scheme: String
    let host: String
    /// Bytes per multipart part; archives above this go up in parts, each held in memory only while it is sent.
    public var partSize = 16 << 20
    public var attempts = 4

    public init(config: S3StoreConfig, accessKey: String, secretKey: String) throws(SlipwayError) {
        self.config = config
        signer = SigV4(accessKey: accessKey, secretKey: secretKey, region: config.region)
        let endpoint = config.endpoint ?? "https://s3.\(config.region).amazonaws.com"
        guard let url = URLComponents(string: endpoint), let h = url.host else { throw .usage("S3 endpoint \(endpoint) is not a URL") }
        scheme = url.scheme ?? "https"
        let base = url.port.map { "\(h):\($0)" } ?? h
        host = config.pathStyle ? base : "\(config.bucket).\(base)"
    }

    func path(_ key: String) -> String {
        let k = SigV4.encode(key, keepSlash: true)
        return config.pathStyle ? "/\(config.bucket)/\(k)" : "/\(k)"
    }

    struct Reply {
        var status: UInt
        var body: ByteBuffer
        /// The ETag header (UploadPart answers carry the part's ETag there).
        var etag: String?
        var text: String { String(buffer: body) }
    }

    func send(_ method: HTTPMethod, key: String, query: [(String, String)] = [], body: ByteBuffer? = nil) async throws(SlipwayError) -> Reply {
        let payload = body.map { SigV4.sha256Hex($0.readableBytesView) } ?? SigV4.sha256Hex(Data())
        let p = key.isEmpty ? (config.pathStyle ? "/\(config.bucket)" : "/") : path(key)
        let q = SigV4.canonicalQuery(query)
        var lastError = ""
        for attempt in 0..<attempts {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(200 << attempt)) }
            var request = HTTPClientRequest(url: "\(scheme)://\(host)\(p)\(q.isEmpty ? "" : "?" + q)")
            request.method = method
            for (name, value) in signer.sign(method: method.rawValue, host: host, path: p, query: query, payloadHash: payload) {
                request.headers.add(name: name, value: value)
            }
            if let body {
                request.body = .bytes(body)
                request.headers.add(name: "Content-Length", value: String(body.readableBytes))
            }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
                let data = try await response.body.collect(upTo: 64 << 20)
                if response.status.code >= 500 || response.status.code == 429 {
                    lastError = "\(response.status.code) \(String(buffer: data).prefix(300))"
                    continue
                }
                return Reply(status: response.status.code, body: data, etag: response.headers.first(name: "ETag"))
            } catch {
                lastError = "\(error)"
            }
        }
        throw SlipwayError(.failed, "S3 \(method.rawValue) \(config.bucket)/\(key) failed after \(attempts) attempts", cause: lastError)
    }

    func expectOK(_ r: Reply, _ what: String) throws(SlipwayError) {
        guard (200..<300).contains(r.status) else {
            throw SlipwayError(.failed, "S3 \(what) answered \(r.status)", cause: Self.tag("Message", in: r.text) ?? Self.tag("Code", in: r.text) ?? r.text)
        }
    }

    public func putObject(_ key: String, data: Data) async throws(SlipwayError) {
        try expectOK(try await send(.PUT, key: key, body: ByteBuffer(data: data)), "PUT \(key)")
    }

    /// Uploads a file: one PUT when small, multipart when large. Memory stays at one part.
    public func upload(file: String, key: String) async throws(SlipwayError) {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw .failed("cannot read \(file)") }
        defer { try? handle.close() }
        func nextPart() throws(SlipwayError) -> Data {
            do { return try handle.read(upToCount: partSize) ?? Data() } catch { throw SlipwayError(.failed, "cannot read \(file)", cause: error) }
        }
        let first = try nextPart()
        if first.count < partSize {
            try await putObject(key, data: first)
            return
        }
        let created = try await send(.POST, key: key, query: [("uploads", "")])
        try expectOK(created, "CreateMultipartUpload \(key)")
        guard let uploadID = Self.tag("UploadId", in: created.text) else { throw .failed("S3 CreateMultipartUpload returned no UploadId") }
        var etags: [String] = []
        var part = first
        do throws(SlipwayError) {
            while !part.isEmpty {
                let n = etags.count + 1
                let r = try await send(.PUT, key: key, query: [("partNumber", String(n)), ("uploadId", uploadID)], body: ByteBuffer(data: part))
                try expectOK(r, "UploadPart \(n) of \(key)")
                etags.append(r.etag ?? "")
                part = try nextPart()
            }
            var xml = "<CompleteMultipartUpload>"
            for (i, etag) in etags.enumerated() { xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\(etag)</ETag></Part>" }
            xml += "</CompleteMultipartUpload>"
            let done = try await send(.POST, key: key, query: [("uploadId", uploadID)], body: ByteBuffer(string: xml))
            try expectOK(done, "CompleteMultipartUpload \(key)")
            if done.text.contains("<Error>") { throw SlipwayError(.failed, "S3 CompleteMultipartUpload of \(key) failed", cause: done.text) }
        } catch {
            _ = try? await send(.DELETE, key: key, query: [("uploadId", uploadID)])
            throw error
        }
    }

    /// Downloads an object into `file`, streaming.
    public func download(_ key: String, to file: String) async throws(SlipwayError) {
        let p = path(key)
        var lastError = ""
        for attempt in 0..<attempts {
            if attempt > 0 { try? await Task.sleep(for: .milliseconds(200 << attempt)) }
            var request = HTTPClientRequest(url: "\(scheme)://\(host)\(p)")
            for (name, value) in signer.sign(method: "GET", host: host, path: p, query: [], payloadHash: SigV4.sha256Hex(Data())) {
                request.headers.add(name: name, value: value)
            }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3600))
                guard response.status == .ok else {
                    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    if response.status.code >= 500 { lastError = text; continue }
                    throw SlipwayError(.notFound, "S3 GET \(config.bucket)/\(key) answered \(response.status.code)", cause: Self.tag("Code", in: text))
                }
                _ = FileManager.default.createFile(atPath: file, contents: nil)
                guard let out = FileHandle(forWritingAtPath: file) else { throw SlipwayError(.failed, "cannot write \(file)") }
                defer { try? out.close() }
                for try await chunk in response.body { try out.write(contentsOf: chunk.readableBytesView) }
                return
            } catch let e as SlipwayError {
                throw e
            } catch {
                lastError = "\(error)"
            }
        }
        throw SlipwayError(.failed, "S3 GET \(config.bucket)/\(key) failed after \(attempts) attempts", cause: lastError)
    }

    public func getObject(_ key: String) async throws(SlipwayError) -> Data? {
        let r = try await send(.GET, key: key)
        if r.status == 404 { return nil }
        try expectOK(r, "GET \(key)")
        return Data(buffer: r.body)
    }

    /// Every key under `prefix` (ListObjectsV2, following continuation tokens).
    public func list(prefix: String) async throws(SlipwayError) -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var q = [("list-type", "2"), ("prefix", prefix)]
            if let token { q.append(("continuation-token", token)) }
            let r = try await send(.GET, key: "", query: q)
            try expectOK(r, "ListObjectsV2 \(prefix)")
            keys += Self.tags("Key", in: r.text)
            token = Self.tag("IsTruncated", in: r.text) == "true" ? Self.tag("NextContinuationToken", in: r.text) : nil
        } while token != nil
        return keys
    }

    public func delete(_ key: String) async throws(SlipwayError) {
        let r = try await send(.DELETE, key: key)
        guard r.status == 404 || (200..<300).contains(r.status) else { try expectOK(r, "DELETE \(key)"); return }
    }

    static func tags(_ name: String, in xml: String) -> [String] {
        var out: [String] = []
        var rest = xml[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) {
            out.append(unescape(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return out
    }

    static func tag(_ name: String, in xml: String) -> String? { tags(name, in: xml).first }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }
}
