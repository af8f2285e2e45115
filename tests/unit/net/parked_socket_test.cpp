#include "net/parked_socket.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <chrono>

namespace dcp::net {
namespace {

using asio::ip::udp;

bool is_open_descriptor(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}

struct Bound {
    asio::io_context io;
    udp::socket socket{io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    udp::socket sender{io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    udp::endpoint address = socket.local_endpoint();
    void send(char byte) { sender.send_to(asio::buffer(&byte, 1), address); }
};

TEST(ParkedSocket, ParkingLeavesTheLoopButKeepsTheSocket) {
    Bound b;
    ParkedSocket<udp::socket> parked(b.socket, udp::v4());
    const int fd = b.socket.native_handle();
    bool woken = false;
    asio::error_code wait_result;
    b.socket.async_wait(udp::socket::wait_read, [&](const asio::error_code& ec) {
        woken = true;
        wait_result = ec;
    });

    parked.park();
    EXPECT_TRUE(parked.parked());
    EXPECT_FALSE(b.socket.is_open());
    EXPECT_EQ(parked.fd(), fd);
    EXPECT_TRUE(is_open_descriptor(fd));
    b.send('x');
    b.io.run_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(woken);  // the pending wait ends cancelled, not by the datagram
    EXPECT_EQ(wait_result, asio::error::operation_aborted);

    // The datagram is still there for whoever reads the descriptor.
    std::array<char, 4> buf{};
    EXPECT_EQ(::recv(parked.fd(), buf.data(), buf.size(), MSG_DONTWAIT), 1);
    EXPECT_EQ(buf[0], 'x');

    parked.park();  // twice: nothing changes
    EXPECT_EQ(parked.fd(), fd);
}

TEST(ParkedSocket, UnparkingRegistersTheSameDescriptorAgain) {
    Bound b;
    ParkedSocket<udp::socket> parked(b.socket, udp::v4());
    const int fd = b.socket.native_handle();
    ASSERT_TRUE(parked.unpark());  // not parked: nothing to do
    parked.park();
    ASSERT_TRUE(parked.unpark());
    EXPECT_FALSE(parked.parked());
    ASSERT_TRUE(b.socket.is_open());
    EXPECT_EQ(b.socket.native_handle(), fd);
    EXPECT_EQ(parked.fd(), fd);

    bool woken = false;
    b.socket.async_wait(udp::socket::wait_read, [&](const asio::error_code& ec) { woken = !ec; });
    b.send('y');
    b.io.run_for(std::chrono::milliseconds(500));
    EXPECT_TRUE(woken);
}

TEST(ParkedSocket, AFailedUnparkKeepsTheDescriptorParked) {
    Bound b;
    ParkedSocket<udp::socket> parked(b.socket, udp::v4());
    const int fd = b.socket.native_handle();
    parked.park();
    b.socket.open(udp::v4());  // the asio object holds another socket: assign must refuse
    const auto back = parked.unpark();
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error(), asio::error::already_open);
    EXPECT_TRUE(parked.parked());
    EXPECT_EQ(parked.fd(), fd);
    EXPECT_TRUE(is_open_descriptor(fd));
}

TEST(ParkedSocket, CloseAndDestructionCloseOnlyAParkedDescriptor) {
    Bound b;
    int fd = -1;
    {
        ParkedSocket<udp::socket> parked(b.socket, udp::v4());
        fd = b.socket.native_handle();
        parked.close();  // not parked: the socket is the asio object's to close
        EXPECT_TRUE(b.socket.is_open());
        parked.park();
        EXPECT_TRUE(is_open_descriptor(fd));
    }
    EXPECT_FALSE(is_open_descriptor(fd));

    b.socket.close();
    ParkedSocket<udp::socket> closed(b.socket, udp::v4());
    closed.park();  // a closed socket cannot be parked
    EXPECT_FALSE(closed.parked());
}

TEST(ParkedSocket, WorksForAnAcceptor) {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(
        io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto endpoint = acceptor.local_endpoint();
    ParkedSocket<asio::ip::tcp::acceptor> parked(acceptor, asio::ip::tcp::v4());
    parked.park();
    // Still listening while parked: a connection waits in the backlog.
    asio::ip::tcp::socket client(io);
    client.connect(endpoint);
    ASSERT_TRUE(parked.unpark());
    asio::ip::tcp::socket accepted(io);
    acceptor.accept(accepted);
    EXPECT_EQ(accepted.remote_endpoint(), client.local_endpoint());
}

}  // namespace
}  // namespace dcp::net
