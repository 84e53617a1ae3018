#ifndef CSLIPWAY_SHIMS_H
#define CSLIPWAY_SHIMS_H

/// prctl(PR_SET_NO_NEW_PRIVS, 1): prctl is variadic, which Swift cannot call. 0 on success, -1 and errno.
int cslipway_set_no_new_privs(void);

/// prctl(PR_GET_NO_NEW_PRIVS): 1 when set, 0 when not, -1 and errno.
int cslipway_get_no_new_privs(void);

#endif
