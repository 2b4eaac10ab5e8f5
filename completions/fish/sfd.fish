# fish completion for sfd(1), the streamfan daemon.
# Options as in the SYNOPSIS of sfd.1; keep the two in step.

complete -c sfd -f
complete -c sfd -s v -n 'not __fish_seen_argument -s v -s q' -d 'Also log connections, subscribes and publishes'
complete -c sfd -s q -n 'not __fish_seen_argument -s v -s q' -d 'Log errors only'
complete -c sfd -s l -r -F -d 'Listen on this socket (repeatable)'
complete -c sfd -l ring -x -d 'Bytes of frames kept per stream, the burst buffer (default 64M)'
complete -c sfd -l max-lag -x -d 'Evict a subscriber staying further behind than this (default none)'
complete -c sfd -l lag-time -x -d 'Seconds it may stay past --max-lag (default 10)'
complete -c sfd -l stall -x -d 'Seconds without a byte before a subscriber stops holding a paced publisher (default 5)'
complete -c sfd -l max-frame -x -d 'Largest data frame accepted (default 1M, at most 1G)'
complete -c sfd -l max-clients -x -d 'Connections at once (default 1024)'
complete -c sfd -l max-streams -x -d 'Streams at most (default 64)'
complete -c sfd -l mode -x -d 'Permissions of the socket file (default 0600)'
complete -c sfd -l group -x -a '(__fish_complete_groups)' -d 'Group of the socket file'
complete -c sfd -l publishers -x -a '(__fish_complete_users)' -d 'Only these may publish: users, uids, @groups, tcp, tcp:ADDR/PREFIX'
complete -c sfd -l subscribers -x -a '(__fish_complete_users)' -d 'Only these may subscribe: users, uids, @groups, tcp, tcp:ADDR/PREFIX'
complete -c sfd -l plain-listen -x -d 'Also serve bare frames of a stream: ADDR,stream=NAME'
complete -c sfd -l sndbuf -x -d 'SO_SNDBUF of each subscriber (default the system\'s)'
complete -c sfd -l grace -x -d 'Seconds a departing subscriber gets to drain (default 2)'
complete -c sfd -l hello-timeout -x -d 'Seconds a client has to send its hello (default 5)'
complete -c sfd -s h -l help -d 'Print usage and exit'
complete -c sfd -l version -d 'Print version and exit'
