// asio::ssl's compiled part, built once (ASIO_SEPARATE_COMPILATION; asio_impl.cpp has the rest).
#include <asio/ssl/impl/src.hpp>
