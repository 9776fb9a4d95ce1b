/* Command-line parsing of forkchatd into a struct fc_config. */
#ifndef FC_OPTIONS_H
#define FC_OPTIONS_H

#include <stdio.h>

#include "../common/config.h"

int options_parse(int argc, char **argv, struct fc_config *cfg);
void options_usage(FILE *out);

#endif
