#pragma once
// The client side of an HTTP/2 connection, as bytes in and bytes out: nghttp2 does the framing,
// the caller moves the bytes (over TLS or anything else) and owns each request. No I/O here, so
// any HTTP/2 client of ours (DoH today; Oblivious DoH would be another) shares it, and it can be
// driven by hand in tests.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/noncopyable.hpp"
#include "common/result.hpp"

struct nghttp2_session;

namespace dcp::http2 {

// One request and its response. The caller owns it; a session points at it from submit()
// until its on_closed().
struct Exchange {
    std::vector<std::uint8_t> body;      // the request's body
    std::vector<std::uint8_t> response;  // the response's body so far
    int status = 0;                      // :status
    bool type_ok = false;                // content-type as the session's Target expects
    bool headers = false;                // a response header came
    bool overflow = false;               // the body outgrew Target::max_response (dropped)

    // Ready to be submitted again (on another session): the response and progress forgotten.
    void reset_response();
    // Submitted to a session, and not reset since.
    [[nodiscard]] bool submitted() const { return id_ >= 0; }

  private:
    friend class ClientSession;
    std::int32_t id_ = -1;  // the HTTP/2 stream, once submitted
    std::size_t sent_ = 0;
    std::array<char, 20> length_{};  // content-length, as text
    std::size_t length_size_ = 0;
};

// What every request of a session asks for (all views must outlive the session).
struct Target {
    std::string_view authority;
    std::string_view path;
    std::string_view content_type;  // of the body, and the one accepted in return
    std::size_t max_response = 65535;
    bool (*accepts)(std::string_view content_type) = nullptr;  // null: exact match
};

// HTTP/2 error codes (RFC 9113, section 7) a caller tells apart.
inline constexpr std::uint32_t kNoError = 0;
inline constexpr std::uint32_t kRefusedStream = 7;
[[nodiscard]] std::string_view error_name(std::uint32_t code);

class ClientSession : NonCopyable {
  public:
    class Events {
      public:
        // The stream of `exchange` ended; its response is complete when `error` is kNoError.
        // The exchange is the caller's again (it may submit it anew from here).
        virtual void on_closed(Exchange& exchange, std::uint32_t error) = 0;
        // The server will take no new stream (GOAWAY); streams it did not take close with
        // kRefusedStream.
        virtual void on_goaway(std::int32_t last_stream) = 0;

      protected:
        ~Events() = default;
    };

    ClientSession(Events& events, const Target& target);
    ~ClientSession();

    // The connection preface and settings (no server push; a connection window of `window`).
    [[nodiscard]] dcp::Result<void, std::string> start(std::int32_t window);
    // POSTs `exchange.body`: false if the session cannot take a new stream.
    [[nodiscard]] bool submit(Exchange& exchange);
    // Abandons a submitted exchange (RST_STREAM CANCEL); its on_closed() still comes.
    void cancel(Exchange& exchange);
    // Bytes from the server; the events they carry are delivered before it returns.
    [[nodiscard]] dcp::Result<void, std::string> receive(std::span<const std::uint8_t> bytes);
    // Appends what is to be sent to `out`, until it holds `limit` bytes or nothing is left.
    [[nodiscard]] dcp::Result<void, std::string> send_into(std::vector<std::uint8_t>& out,
                                                           std::size_t limit);
    // Neither side has anything more to say (both ended the connection).
    [[nodiscard]] bool finished() const;

  private:
    struct Callbacks;
    friend struct Callbacks;

    Events& events_;
    Target target_;
    nghttp2_session* h2_ = nullptr;
};

}  // namespace dcp::http2
