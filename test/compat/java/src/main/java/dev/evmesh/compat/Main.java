package dev.evmesh.compat;

import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.eventmesh.client.tcp.EventMeshTCPClient;
import org.apache.eventmesh.client.tcp.EventMeshTCPClientFactory;
import org.apache.eventmesh.client.tcp.conf.EventMeshTCPClientConfig;
import org.apache.eventmesh.common.protocol.SubscriptionMode;
import org.apache.eventmesh.common.protocol.SubscriptionType;
import org.apache.eventmesh.common.protocol.tcp.EventMeshMessage;
import org.apache.eventmesh.common.protocol.tcp.Package;
import org.apache.eventmesh.common.protocol.tcp.UserAgent;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one scenario of the Apache EventMesh Java SDK (eventmesh-sdk-java 1.10.0-release) against
 * an evmesh broker and exits 0 only when every check passed. Every check is printed.
 *
 * <p>Usage: {@code Main <host> <port> <scenario>} with scenario one of
 * pubsub-cloudevents, pubsub-eventmeshmessage, broadcast-cloudevents, broadcast-eventmeshmessage,
 * rr-cloudevents, rr-eventmeshmessage, or grpc-&lt;scenario&gt; (GrpcScenarios, against the gRPC port).
 */
public final class Main {
    private static final long TIMEOUT_MS = 10_000;
    private static final int EVENTS = 3;
    /** Longer than the broker's delivery.ackTimeoutMs in test/compat/eventmesh-java.test.ts. */
    private static final long ACK_WAIT_MS = 2_500;
    private static final List<AutoCloseable> CLIENTS = new ArrayList<>();
    private static int failures = 0;

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: Main <host> <port> <scenario>");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String scenario = args[2];
        String topic = "java-compat-" + scenario + "-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            String[] parts = scenario.split("-", 2);
            boolean cloudEvents = parts[1].equals("cloudevents");
            Codec<?> codec = cloudEvents ? new CloudEventCodec() : new MeshMessageCodec();
            switch (parts[0]) {
                case "pubsub":
                    pubSub(host, port, topic, codec);
                    break;
                case "broadcast":
                    broadcast(host, port, topic, codec);
                    break;
                case "rr":
                    requestReply(host, port, topic, codec);
                    break;
                case "grpc":
                    GrpcScenarios.run(host, port, parts[1], topic);
                    break;
                case "http":
                    HttpScenarios.run(host, port, parts[1], topic);
                    break;
                default:
                    throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        } catch (Throwable t) {
            failures++;
            System.out.println("FAIL exception: " + t);
            t.printStackTrace(System.out);
        }
        for (AutoCloseable c : CLIENTS) {
            try {
                c.close();
            } catch (Exception e) {
                System.out.println("note: close failed: " + e);
            }
        }
        System.out.println(failures == 0 ? "RESULT " + scenario + ": PASS" : "RESULT " + scenario + ": FAIL (" + failures + ")");
        System.exit(failures == 0 ? 0 : 1);
    }

    /** Closed at the end of the run. */
    static void track(AutoCloseable c) {
        CLIENTS.add(c);
    }

    static void check(boolean ok, String what) {
        System.out.println((ok ? "ok   " : "FAIL ") + what);
        if (!ok) {
            failures++;
        }
    }

    /** Builds and reads messages of one SDK protocol type. */
    interface Codec<M> {
        Class<M> type();

        M build(String topic, String body, Map<String, String> ext);

        String body(M msg);

        String topic(M msg);

        String ext(M msg, String key);

        /** The reply to a request: the request with a new body (the request's extensions stay). */
        M reply(M request, String body);
    }

    /** CloudEvents data is JSON (datacontenttype application/cloudevents+json, required by the
     *  SDK): the text travels as {"v": text}. */
    static final class CloudEventCodec implements Codec<CloudEvent> {
        private static final ObjectMapper JSON = new ObjectMapper();

        private static byte[] wrap(String text) {
            try {
                return JSON.writeValueAsBytes(Map.of("v", text));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        public Class<CloudEvent> type() {
            return CloudEvent.class;
        }

        public CloudEvent build(String topic, String body, Map<String, String> ext) {
            CloudEventBuilder b = CloudEventBuilder.v1()
                .withId(UUID.randomUUID().toString())
                .withSubject(topic)
                .withSource(URI.create("/"))
                .withDataContentType("application/cloudevents+json")
                .withType("compat")
                .withData(wrap(body))
                .withExtension("ttl", "10000");
            ext.forEach(b::withExtension);
            return b.build();
        }

        public String body(CloudEvent e) {
            if (e.getData() == null) {
                return null;
            }
            try {
                JsonNode v = JSON.readTree(e.getData().toBytes()).get("v");
                return v == null ? null : v.asText();
            } catch (Exception ex) {
                return new String(e.getData().toBytes(), StandardCharsets.UTF_8);
            }
        }

        public String topic(CloudEvent e) {
            return e.getSubject();
        }

        public String ext(CloudEvent e, String key) {
            Object v = e.getExtension(key);
            return v == null ? null : v.toString();
        }

        public CloudEvent reply(CloudEvent request, String body) {
            return CloudEventBuilder.from(request)
                .withId(UUID.randomUUID().toString())
                .withData(wrap(body))
                .build();
        }
    }

    static final class MeshMessageCodec implements Codec<EventMeshMessage> {
        public Class<EventMeshMessage> type() {
            return EventMeshMessage.class;
        }

        public EventMeshMessage build(String topic, String body, Map<String, String> ext) {
            EventMeshMessage m = new EventMeshMessage();
            m.setTopic(topic);
            m.setBody(body);
            Map<String, String> props = new HashMap<>(ext);
            props.put("ttl", "10000");
            m.setProperties(props);
            Map<String, String> headers = new HashMap<>();
            headers.put("datacontenttype", "text/plain");
            m.setHeaders(headers);
            return m;
        }

        public String body(EventMeshMessage m) {
            return m.getBody();
        }

        public String topic(EventMeshMessage m) {
            return m.getTopic();
        }

        public String ext(EventMeshMessage m, String key) {
            return m.getProperties() == null ? null : m.getProperties().get(key);
        }

        public EventMeshMessage reply(EventMeshMessage request, String body) {
            EventMeshMessage m = new EventMeshMessage();
            m.setTopic(request.getTopic());
            m.setBody(body);
            m.setProperties(new HashMap<>(request.getProperties()));
            m.setHeaders(request.getHeaders() == null ? new HashMap<>() : new HashMap<>(request.getHeaders()));
            return m;
        }
    }

    static <M> EventMeshTCPClient<M> client(String host, int port, String group, String purpose, Class<M> type) throws Exception {
        UserAgent ua = UserAgent.builder()
            .env("test").subsystem("5023").path("/data/app").pid(4242).host("127.0.0.1").port(0)
            .version("2.0.11").username("compat").password("secret").idc("FT")
            .group(group).purpose(purpose).build();
        EventMeshTCPClientConfig config = EventMeshTCPClientConfig.builder().host(host).port(port).userAgent(ua).build();
        EventMeshTCPClient<M> c = EventMeshTCPClientFactory.createEventMeshTCPClient(config, type);
        c.init();
        CLIENTS.add(c);
        return c;
    }

    /** CLUSTERING pub/sub: every publish is acked with code 0; the subscriber gets each event once. */
    static <M> void pubSub(String host, int port, String topic, Codec<M> codec) throws Exception {
        EventMeshTCPClient<M> sub = client(host, port, "compatSubGroup", "sub", codec.type());
        Map<String, M> received = new ConcurrentHashMap<>();
        AtomicInteger deliveries = new AtomicInteger();
        CountDownLatch latch = new CountDownLatch(EVENTS);
        sub.subscribe(topic, SubscriptionMode.CLUSTERING, SubscriptionType.ASYNC);
        sub.registerSubBusiHandler(msg -> {
            deliveries.incrementAndGet();
            String body = codec.body(msg);
            if (body != null && received.putIfAbsent(body, msg) == null) {
                latch.countDown();
            }
            return Optional.empty();
        });
        sub.listen();
        check(true, "sub client: HELLO, SUBSCRIBE " + topic + " (CLUSTERING, ASYNC), LISTEN");

        EventMeshTCPClient<M> pub = client(host, port, "compatPubGroup", "pub", codec.type());
        for (int i = 0; i < EVENTS; i++) {
            Map<String, String> ext = new HashMap<>();
            ext.put("compatindex", String.valueOf(i));
            Package ack = pub.publish(codec.build(topic, "{\"n\":" + i + "}", ext), TIMEOUT_MS);
            check(ack != null && ack.getHeader().getCode() == 0,
                "publish " + i + " acked with ASYNC_MESSAGE_TO_SERVER_ACK code 0 (got " + (ack == null ? null : ack.getHeader()) + ")");
        }
        check(latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS), "subscriber received all " + EVENTS + " events (got " + received.size() + ")");
        // The SDK acks each push after its handler (ASYNC_MESSAGE_TO_CLIENT_ACK with the push seq);
        // evmesh redelivers unacked pushes after delivery.ackTimeoutMs (the test sets 1 s).
        Thread.sleep(ACK_WAIT_MS);
        check(deliveries.get() == EVENTS, "no redelivery after " + ACK_WAIT_MS + " ms: the SDK's acks were taken (deliveries " + deliveries.get() + ")");
        for (int i = 0; i < EVENTS; i++) {
            M m = received.get("{\"n\":" + i + "}");
            check(m != null, "event " + i + ": body intact");
            if (m != null) {
                check(topic.equals(codec.topic(m)), "event " + i + ": topic " + codec.topic(m));
                check(String.valueOf(i).equals(codec.ext(m, "compatindex")), "event " + i + ": extension compatindex=" + codec.ext(m, "compatindex"));
            }
        }
    }

    /** BROADCASTING: two sessions of one group each get every broadcast. */
    static <M> void broadcast(String host, int port, String topic, Codec<M> codec) throws Exception {
        List<Set<String>> seen = new ArrayList<>();
        CountDownLatch latch = new CountDownLatch(2 * EVENTS);
        for (int s = 0; s < 2; s++) {
            EventMeshTCPClient<M> sub = client(host, port, "compatBroadcastGroup", "sub", codec.type());
            Set<String> mine = ConcurrentHashMap.newKeySet();
            seen.add(mine);
            sub.subscribe(topic, SubscriptionMode.BROADCASTING, SubscriptionType.ASYNC);
            sub.registerSubBusiHandler(msg -> {
                if (mine.add(codec.body(msg))) {
                    latch.countDown();
                }
                return Optional.empty();
            });
            sub.listen();
        }
        check(true, "two sub clients of one group: SUBSCRIBE " + topic + " (BROADCASTING), LISTEN");
        EventMeshTCPClient<M> pub = client(host, port, "compatPubGroup", "pub", codec.type());
        for (int i = 0; i < EVENTS; i++) {
            pub.broadcast(codec.build(topic, "broadcast-" + i, new HashMap<>()), TIMEOUT_MS);
        }
        check(true, "broadcast " + EVENTS + " events (the SDK does not wait for the ACK)");
        check(latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS),
            "each subscriber received every broadcast (" + seen.get(0).size() + " and " + seen.get(1).size() + " of " + EVENTS + ")");
    }

    /** Request-reply: a SYNC subscriber answers; rr() returns RESPONSE_TO_CLIENT with the reply. */
    static <M> void requestReply(String host, int port, String topic, Codec<M> codec) throws Exception {
        EventMeshTCPClient<M> responder = client(host, port, "compatRRGroup", "sub", codec.type());
        responder.subscribe(topic, SubscriptionMode.CLUSTERING, SubscriptionType.SYNC);
        responder.registerSubBusiHandler(msg -> Optional.of(codec.reply(msg, "reply-to:" + codec.body(msg))));
        responder.listen();
        check(true, "responder: SUBSCRIBE " + topic + " (CLUSTERING, SYNC), LISTEN");
        EventMeshTCPClient<M> requester = client(host, port, "compatRequesterGroup", "pub", codec.type());
        for (int i = 0; i < EVENTS; i++) {
            Package resp = requester.rr(codec.build(topic, "question-" + i, new HashMap<>()), TIMEOUT_MS);
            check(resp != null && resp.getHeader().getCode() == 0,
                "rr " + i + ": RESPONSE_TO_CLIENT code 0 (got " + (resp == null ? null : resp.getHeader()) + ")");
            String body = resp == null || resp.getBody() == null ? "" : resp.getBody().toString();
            check(body.contains("reply-to:question-" + i), "rr " + i + ": the reply body carries the responder's answer");
        }
    }
}
