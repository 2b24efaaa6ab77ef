#ifndef VIGIE_CZEROMQ_SHIM_H
#define VIGIE_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
