#!lua name=zchannel
--  zchannel's Redis engine: per topic a hash {epoch, seq, gen}, a stream
--  whose entry IDs are the seqs ("<seq>-0") and a channel for fan-out
--  between brokers; per shard a generation (zch:gen) that a promoted
--  replica bumps. Redis runs each function alone, so the order of the
--  seqs, of the stream and of the channel is one order, whichever broker
--  published.

--  keys: hash, stream, channel, generation. args: the epoch to start if
--  the hash is missing or of an older generation, the history length (0:
--  none), meta, payload. Returns { seq, epoch }.
local function publish (keys, args)
    local state = redis.call ('HMGET', keys [1], 'epoch', 'gen')
    local epoch = state [1]
    local gen = redis.call ('GET', keys [4]) or '0'
    if not epoch or (state [2] or '0') ~= gen then
        --  The topic is new, its data was lost, or a replica that may
        --  lack its last writes took over: a new epoch, and no stream
        --  entry of an older one may stay under the new seqs
        epoch = args [1]
        redis.call ('DEL', keys [2])
        redis.call ('HSET', keys [1], 'epoch', epoch, 'seq', 0, 'gen', gen)
    end
    local seq = redis.call ('HINCRBY', keys [1], 'seq', 1)
    if args [2] ~= '0' then
        redis.call ('XADD', keys [2], 'MAXLEN', '~', args [2], string.format ('%d-0', seq),
                    'm', args [3], 'p', args [4])
    end
    --  "<seq> <epoch> <meta length> " then meta and payload
    redis.call ('PUBLISH', keys [3],
                string.format ('%d %s %d ', seq, epoch, #args [3]) .. args [3] .. args [4])
    return { seq, epoch }
end

--  keys: hash, stream. args: most entries. Returns { epoch or false,
--  seq, newest entries first }, read together.
local function range (keys, args)
    local state = redis.call ('HMGET', keys [1], 'epoch', 'seq')
    if not state [1] then
        return { false, 0, {} }
    end
    local entries = {}
    if args [1] ~= '0' then
        entries = redis.call ('XREVRANGE', keys [2], '+', '-', 'COUNT', args [1])
    end
    return { state [1], tonumber (state [2]), entries }
end

--  keys: generation, the replication id it belongs to. Run first on every
--  connection to a master. A master whose replication id is not the one
--  recorded, and that continues another's history (master_replid2 set: a
--  promoted replica), bumps the generation; one restarted from its own
--  files (replid2 all zeros) keeps it. Returns { generation, replication
--  id, 1 if bumped now else 0 }; an error on a replica.
local function generation (keys, args)
    local info = redis.call ('INFO', 'replication')
    if string.match (info, 'role:(%a+)') ~= 'master' then
        return redis.error_reply ('READONLY not a master')
    end
    local replid = string.match (info, 'master_replid:(%x+)')
    local replid2 = string.match (info, 'master_replid2:(%x+)') or ''
    local known = redis.call ('GET', keys [2])
    local bumped = 0
    if known and known ~= replid and not string.match (replid2, '^0*$') then
        redis.call ('INCR', keys [1])
        bumped = 1
    end
    if known ~= replid then
        redis.call ('SET', keys [2], replid)
    end
    return { redis.call ('GET', keys [1]) or '0', replid, bumped }
end

redis.register_function ('zch_publish', publish)
redis.register_function { function_name = 'zch_range', callback = range, flags = { 'no-writes' } }
redis.register_function ('zch_generation', generation)
