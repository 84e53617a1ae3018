import Foundation
import Hummingbird
import NIOCore
import SlipwayCore

/// Turns every error into `{"error": {"code", "message", "cause"}}` with a matching status, so the CLI
/// can map it back to an exit code. Nothing else about the failure leaks.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIResponse.from(error, path: request.uri.path)
        }
    }
}

enum APIResponse {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? SlipwayJSON.encoder().encode(value)) ?? Data("null".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Any error as the API answers it.
    static func from(_ error: any Error, path: String) -> Response {
        switch error {
        case let error as SlipwayError:
            return APIResponse.error(error)
        case let error as DecodingError:
            return APIResponse.error(SlipwayError(.usage, "the request body is not valid", cause: "\(error)"))
        case let error as Forbidden:
            return json(ErrorBody(error: SlipwayError(.policy, error.message)), status: .forbidden)
        case let error as HTTPError:
            let code: SlipwayError.Code = error.status == .notFound ? .notFound : (error.status.code < 500 ? .usage : .internal)
            return APIResponse.error(SlipwayError(code, error.body ?? "\(error.status)"))
        default:
            return APIResponse.error(SlipwayError(.internal, "the daemon failed to handle \(path)", cause: error))
        }
    }

    static func error(_ error: SlipwayError) -> Response {
        json(ErrorBody(error: error), status: status(error.code))
    }

    static func status(_ code: SlipwayError.Code) -> HTTPResponse.Status {
        switch code {
        case .usage: .badRequest
        case .policy: .conflict
        case .notFound: .notFound
        case .failed: .unprocessableContent
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        do {
            return try SlipwayJSON.decoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw SlipwayError(.usage, "the request body is not a valid \(T.self)", cause: error)
        }
    }
}

/// A request refused as forbidden (403) rather than by a policy's state (409): a dashboard form without its
/// session's CSRF token.
struct Forbidden: Error {
    var message: String
}
